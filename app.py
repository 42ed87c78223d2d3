"""The browser chat: Gradio components wired to qa.chat.ChatService, nothing more.

    python app.py [--index DIR] [--host 127.0.0.1] [--port 7860] [--feedback FILE] [--auth USER:PASSWORD]

Answers, article views, uploads, feedback and every piece of HTML come from the
library (qa/chat.py, qa/views.py, qa/uploads.py); `qa serve` starts this same app.
"""

from __future__ import annotations

import argparse
import os
import threading
from pathlib import Path
from typing import Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # must precede the gradio import

import gradio as gr  # noqa: E402

from qa import serve, views  # noqa: E402
from qa.chat import WELCOME, ChatService, make_filters  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.terminal import escape_controls  # noqa: E402
from qa.uploads import MAX_UPLOAD_BYTES, UPLOAD_TYPES  # noqa: E402

HERE = Path(__file__).resolve().parent
# A click on [n] or a source card (links to #qa-ref-<reply>-<n>) asks the server for that article.
OPEN_REFERENCE_JS = """
if (window.qaOpenRef) document.removeEventListener('click', window.qaOpenRef, true);
window.qaOpenRef = (event) => {
  const link = event.target.closest('a[href^="#qa-ref-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  trigger('select', {index: 0, value: link.getAttribute('href')});
};
document.addEventListener('click', window.qaOpenRef, true);
watch('value', () => element.querySelector('#qa-focus')?.scrollIntoView({block: 'center'}));
"""
PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # UI events; the API is /ask and /search


def build(service: ChatService) -> gr.Blocks:
    """The chat page and its API endpoints over one shared ChatService."""
    facets = service.facets()
    # delete_cache: Gradio's temporary copies of uploaded files go after a day (checked hourly)
    with gr.Blocks(title="qa", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        gr.Markdown("## qa: cited answers from your news articles")
        header = gr.HTML(service.header(), elem_id="qa-header")
        turns, replies = gr.State([]), gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                examples = [{"text": q} for q in service.examples(HERE / "seeds" / "questions.jsonl")]
                chat = gr.Chatbot(
                    elem_id="qa-chat",
                    height=620,
                    placeholder=WELCOME,
                    examples=examples or None,
                    latex_delimiters=[],
                    buttons=[],  # "copy" would copy the reply's HTML source
                    show_label=False,
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Ask a question…",
                        show_label=False,
                        scale=5,
                        elem_id="qa-question",
                        max_lines=4,
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask")
                    new_topic = gr.Button("New topic", scale=1, elem_id="qa-new-topic")
                with gr.Accordion("Filters", open=False):
                    with gr.Row():
                        date_from = gr.Textbox(
                            label="From date", placeholder=facets["date_from"] or "YYYY-MM-DD"
                        )
                        date_to = gr.Textbox(label="To date", placeholder=facets["date_to"] or "YYYY-MM-DD")
                        sections = gr.Dropdown(facets["sections"], multiselect=True, label="Sections")
                        sources = gr.Dropdown(facets["sources"], multiselect=True, label="Sources")
                    k = gr.Slider(1, 10, value=5, step=1, label="Passages to search")
                with gr.Accordion("Add articles", open=False, elem_id="qa-add"):
                    limits = f"{' '.join(UPLOAD_TYPES)}; up to {MAX_UPLOAD_BYTES >> 20} MB each"
                    files = gr.File(file_count="multiple", label=limits, elem_id="qa-upload")
                    upload_status = gr.HTML(elem_id="qa-upload-status")
            with gr.Column(scale=2):
                hint = views.notice_html("Click a citation [n] or a source card to read the article here.")
                article = gr.HTML(hint, elem_id="qa-article", js_on_load=OPEN_REFERENCE_JS)

        def respond(text: str, messages: list, history: list, done: list, k: int, *filters: Any):
            if not text.strip():
                return messages, history, done, text
            try:
                reply = service.respond(text, history, len(done), k, make_filters(*filters))
            except QAError as ex:
                raise gr.Error(str(ex)) from None
            return messages + list(reply.messages), history + [reply.turn], done + [reply.data], ""

        def pick_example(evt: gr.SelectData, *state: Any):
            return respond(
                evt.value.get("text", "") if isinstance(evt.value, dict) else str(evt.value), *state
            )

        def open_reference(evt: gr.SelectData, done: list) -> str:
            return service.open_reference(str(evt.value), done)

        def add_files(paths: list[str] | None, progress=gr.Progress()):  # noqa: B008
            result = service.upload(
                paths or [], lambda done, total: progress((done, total), desc="Embedding")
            )
            return (views.notice_html(result.summary()), None, *refresh())

        def feedback(evt: gr.LikeData, done: list) -> None:
            index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            if 0 <= index // 2 < len(done):  # messages go user, assistant, user, ...
                try:
                    service.record_feedback(done[index // 2], evt.liked)
                except QAError as ex:
                    raise gr.Error(str(ex)) from None
                gr.Info(f"Feedback saved to {service.feedback_path}")

        def refresh():
            f = service.facets()
            return service.header(), gr.update(choices=f["sections"]), gr.update(choices=f["sources"])

        chat_in = [question, chat, turns, replies, k, date_from, date_to, sections, sources]
        chat_out = [chat, turns, replies, question]
        question.submit(respond, chat_in, chat_out, **PRIVATE)
        ask.click(respond, chat_in, chat_out, **PRIVATE)
        chat.example_select(pick_example, chat_in[1:], chat_out, **PRIVATE)
        new_topic.click(lambda: ([], [], [], hint), None, [chat, turns, replies, article], **PRIVATE)
        chat.clear(lambda: ([], []), None, [turns, replies], **PRIVATE)
        article.select(open_reference, replies, article, **PRIVATE)
        chat.like(feedback, replies, None, **PRIVATE)
        files.upload(add_files, files, [upload_status, files, header, sections, sources], **PRIVATE)
        demo.load(refresh, None, [header, sections, sources], **PRIVATE)
        gr.api(service.api_ask, api_name="ask")
        gr.api(service.api_search, api_name="search")
    return demo


def launch(
    service: ChatService,
    host: str = "127.0.0.1",
    port: int = 7860,
    block: bool = True,
    auth: tuple[str, str] | None = None,
) -> gr.Blocks:
    """Serve the chat on host:port (never a share link), then load the model in the background.

    Requests beyond serve.WORKERS wait in Gradio's queue (up to serve.QUEUE_SIZE); with `auth`
    every page and API call needs that user and password.
    """
    serve.warn_if_exposed(host, auth)
    demo = build(service)
    theme = gr.themes.Soft(font=["system-ui", "sans-serif"], font_mono=["monospace"])  # no web fonts
    demo.queue(default_concurrency_limit=serve.WORKERS, max_size=serve.QUEUE_SIZE).launch(
        server_name=serve.server_name(host),
        server_port=port,
        auth=auth,
        share=False,
        prevent_thread_lock=True,
        quiet=True,
        show_error=True,
        max_file_size=MAX_UPLOAD_BYTES,
        ssr_mode=False,
        theme=theme,
        css=views.STYLE,
        footer_links=["api"],
    )
    threading.Thread(target=warm_up, args=(service,), daemon=True).start()
    if block:
        where = escape_controls(
            f"http://{serve.server_name(host)}:{demo.server_port} (index {service.index_dir})"
        )
        print(f"qa chat: {where}; Ctrl+C stops it")
        demo.block_thread()
    return demo


def warm_up(service: ChatService) -> None:
    """Off the start-up path: what Gradio imports on its first event (about a second), then the model."""
    try:
        import matplotlib.pyplot  # noqa: F401  (gradio wraps every event in a matplotlib backend switch)
        import pandas  # noqa: F401  (and its queue statistics use pandas)
    except ImportError:
        pass
    service.warm_up()


def main(argv: list[str] | None = None) -> None:
    env = os.environ.get
    cli = argparse.ArgumentParser(description="The qa browser chat")
    cli.add_argument("--index", default=env("QA_INDEX") or "index", help="index folder ($QA_INDEX)")
    cli.add_argument("--host", default=env("QA_HOST") or "127.0.0.1", help="address to bind ($QA_HOST)")
    cli.add_argument("--port", type=int, default=env("QA_PORT") or "7860", help="port ($QA_PORT)")
    cli.add_argument("--feedback", default=env("QA_FEEDBACK"), help="feedback JSONL file ($QA_FEEDBACK)")
    cli.add_argument("--auth", default=env(serve.AUTH_ENV), help="USER:PASSWORD to log in ($QA_AUTH)")
    args = cli.parse_args(argv)
    try:
        auth = serve.parse_auth(args.auth)
        serve.check_address(args.host, args.port)  # before minutes of indexing, not after
        service = ChatService.start(args.index, seeds=[HERE / "seeds"], feedback_path=args.feedback)
    except QAError as ex:
        raise SystemExit(f"Error: {escape_controls(ex)}") from None
    try:
        launch(service, args.host, args.port, auth=auth)
    except OSError as ex:  # the port was taken while the index was being built
        raise SystemExit(
            f"Error: cannot serve on {args.host}:{args.port} ({escape_controls(ex)}); choose another --port"
        ) from None


if __name__ == "__main__":
    main()
