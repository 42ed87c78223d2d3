"""The browser chat: Gradio components wired to qa.chat.ChatService, nothing more.

    python app.py [--index DIR] [--host 127.0.0.1] [--port 7860] [--feedback FILE] [--auth USER:PASSWORD]

Answers, article views, uploads, feedback and every piece of HTML come from the
library (qa/chat.py, qa/views*.py; style and scripts in qa/static/); `qa serve` starts
this same app.
"""

from __future__ import annotations

import argparse
import os
import threading
from pathlib import Path
from typing import Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # must precede the gradio import

import gradio as gr  # noqa: E402

from qa import serve, views, views_page  # noqa: E402
from qa.chat import ChatService, ChatState, check_filters  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.uploads import MAX_UPLOAD_BYTES, UPLOAD_TYPES  # noqa: E402

HERE = Path(__file__).resolve().parent
PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # UI events; the API is /ask and /search
QUIET: dict[str, Any] = {**PRIVATE, "show_progress": "hidden"}  # the page shows its own "Searching…"


def build(service: ChatService) -> gr.Blocks:
    """The chat page and its API endpoints over one shared ChatService."""
    ov, examples = service.overview(), service.examples(HERE / "seeds" / "questions.jsonl")
    show = views_page.shown_filters(ov)
    # delete_cache: Gradio's temporary copies of uploaded files go after a day (checked hourly)
    with gr.Blocks(title="qa", analytics_enabled=False, delete_cache=(3600, 86400), fill_height=True) as demo:
        header = gr.HTML(service.header(), elem_id="qa-header")
        state = gr.State(ChatState())
        with gr.Row(elem_id="qa-main", equal_height=True):
            with gr.Column(scale=3, elem_id="qa-chat-col"):
                with gr.Row(elem_id="qa-tools"):
                    with gr.Accordion("Filters", open=False, elem_id="qa-filters") as filters_box:
                        dated = gr.HTML(views_page.dated_html(ov), elem_id="qa-dated")
                        with gr.Row(visible=show["dates"], elem_id="qa-dates") as dates:
                            date_from = gr.Textbox(
                                label="From date", placeholder="YYYY-MM-DD", elem_id="qa-from"
                            )
                            date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", elem_id="qa-to")
                        hint = gr.HTML("", elem_id="qa-filter-hint")
                        undated = gr.Checkbox(
                            label=views_page.undated_label(ov), visible=show["undated"], elem_id="qa-undated"
                        )
                        with gr.Row():
                            sections = gr.Dropdown(
                                list(ov.sections),
                                multiselect=True,
                                label="Sections",
                                visible=show["sections"],
                                min_width=240,
                            )
                            sources = gr.Dropdown(
                                list(ov.sources),
                                multiselect=True,
                                label="Sources",
                                visible=show["sources"],
                                min_width=240,
                            )
                        k = gr.Slider(1, 10, value=5, step=1, label="Passages to show", elem_id="qa-k")
                    with gr.Accordion("Add articles", open=False, elem_id="qa-add"):
                        kinds = f"{' '.join(UPLOAD_TYPES)}, up to {MAX_UPLOAD_BYTES >> 20} MB each"
                        files = gr.File(
                            file_count="multiple",
                            label=f"Article files ({kinds})",
                            height=130,
                            elem_id="qa-upload",
                        )
                        upload_status = gr.HTML(elem_id="qa-upload-status")
                    new_topic = gr.Button(
                        "New topic", size="sm", scale=0, min_width=100, elem_id="qa-new-topic"
                    )
                conv = gr.HTML(
                    service.render(ChatState(), examples),
                    elem_id="qa-conv",
                    js_on_load=views.asset("conversation.js"),
                    apply_default_css=False,
                )
                with gr.Row(elem_id="qa-input"):
                    question = gr.Textbox(
                        label="Your question",
                        show_label=False,
                        placeholder="Ask about your articles…",
                        lines=1,
                        max_lines=4,
                        scale=5,
                        elem_id="qa-question",
                    )
                    ask = gr.Button("Ask", variant="primary", scale=0, min_width=72, elem_id="qa-ask")
            with gr.Column(scale=2, elem_id="qa-side"):
                article = gr.HTML(
                    "", elem_id="qa-article", js_on_load=views.asset("article.js"), apply_default_css=False
                )

        form = [k, date_from, date_to, sections, sources, undated]

        def respond(text: str, chat: ChatState, k_: int, *filter_values: Any) -> dict:
            filters, hints = check_filters(*filter_values)
            if hints:  # the question stays in the box; the hint shows under the field, nothing else moves
                return {
                    conv: service.render(chat, examples),
                    hint: views_page.hint_html(hints),
                    filters_box: gr.update(open=True),
                }
            if not text.strip():
                return {conv: service.render(chat, examples)}
            chat = service.ask(chat, text, k_, filters)
            return {conv: service.render(chat, examples), state: chat, question: "", hint: "", article: ""}

        def on_click(evt: gr.SelectData, chat: ChatState, *values: Any) -> dict:
            verb, argument = views.parse_action(evt.value)
            if verb == "ex":
                return respond(argument, chat, *values)
            if verb == "ref":
                return {article: service.open_reference(argument, chat.replies)}
            if verb == "art":
                return {article: service.open_article(argument)}
            chat = (
                service.vote(chat, argument)
                if verb == "fb"
                else service.explain(chat, argument)
                if verb == "why"
                else chat
            )
            return {state: chat, conv: service.render(chat, examples)}

        def check_dates(*values: Any) -> str:
            return views_page.hint_html(check_filters(*values)[1])

        def add_files(paths: list[str] | None, chat: ChatState, progress=gr.Progress()) -> dict:  # noqa: B008
            report = service.add_files(
                paths or [], lambda done, total: progress((done, total), desc="Embedding")
            )
            first_screen = {} if chat.shown else {conv: service.render(chat, examples)}  # its counts changed
            return {upload_status: report, files: None, **first_screen, **refresh()}

        def refresh() -> dict:
            ov = service.overview()
            show = views_page.shown_filters(ov)
            return {
                header: service.header(),
                dated: views_page.dated_html(ov),
                dates: gr.update(visible=show["dates"]),
                undated: gr.update(label=views_page.undated_label(ov), visible=show["undated"]),
                sections: gr.update(choices=list(ov.sections), visible=show["sections"]),
                sources: gr.update(choices=list(ov.sources), visible=show["sources"]),
            }

        chat_out = [conv, state, question, hint, filters_box, article]
        for event in (question.submit, ask.click):
            event(respond, [question, state, *form], chat_out, **QUIET)
        conv.select(on_click, [state, *form], chat_out, **QUIET)
        article.select(lambda: "", None, article, **QUIET)  # its one button closes it
        new_topic.click(
            lambda: (ChatState(), service.render(ChatState(), examples), ""),
            None,
            [state, conv, article],
            **QUIET,
        )
        for box in (date_from, date_to):
            box.blur(check_dates, [date_from, date_to], hint, **QUIET)
        refreshed = [header, dated, dates, undated, sections, sources]
        files.upload(
            add_files,
            [files, state],
            [upload_status, files, conv, *refreshed],
            show_progress_on=upload_status,
            **PRIVATE,
        )
        demo.load(
            lambda: {conv: service.render(ChatState(), examples), **refresh()},
            None,
            [conv, *refreshed],
            **QUIET,
        )
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
        server_name=host,
        server_port=port,
        auth=auth,
        share=False,
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,  # a mistake is said where it happened, never as a page-wide error
        max_file_size=MAX_UPLOAD_BYTES,
        ssr_mode=False,
        theme=theme,
        css=views.asset("chat.css"),
        footer_links=["api"],
    )
    threading.Thread(target=warm_up, args=(service,), daemon=True).start()
    if block:
        print(f"qa chat: http://{host}:{demo.server_port} (index {service.index_dir}); Ctrl+C stops it")
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
    cli.add_argument("--port", type=int, default=int(env("QA_PORT") or 7860), help="port ($QA_PORT)")
    cli.add_argument("--feedback", default=env("QA_FEEDBACK"), help="feedback JSONL file ($QA_FEEDBACK)")
    cli.add_argument("--auth", default=env(serve.AUTH_ENV), help="USER:PASSWORD to log in ($QA_AUTH)")
    args = cli.parse_args(argv)
    try:
        auth = serve.parse_auth(args.auth)
        service = ChatService.start(args.index, seeds=[HERE / "seeds"], feedback_path=args.feedback)
    except QAError as ex:
        raise SystemExit(f"Error: {ex}") from None
    launch(service, args.host, args.port, auth=auth)


if __name__ == "__main__":
    main()
