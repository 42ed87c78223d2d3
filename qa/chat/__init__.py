"""The browser chat's library side: ChatService, conversation state, uploads, feedback."""
