"""What the browser chat shows, as HTML strings (no Gradio import)."""
