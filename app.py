"""The browser chat: Gradio components wired to qa.chat.service.ChatService, nothing more.

    python app.py [--index DIR] [--host 127.0.0.1] [--port 7860] [--feedback FILE] [--auth USER:PASSWORD]

Answers, article views, uploads, feedback and every piece of HTML come from the
library (qa/chat/, qa/views/; style and scripts in qa/static/); `qa serve` starts
this same app with the same options (qa/serve.py OPTIONS).
"""

from __future__ import annotations

import argparse
import os
import threading
from pathlib import Path
from typing import Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # must precede the gradio import

import gradio as gr  # noqa: E402

from qa import serve  # noqa: E402
from qa.chat.filters import as_of_hints, check_filters  # noqa: E402
from qa.chat.service import ChatService  # noqa: E402
from qa.chat.state import ChatState  # noqa: E402
from qa.chat.uploads import MAX_UPLOAD_BYTES  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.index.library import Overview  # noqa: E402
from qa.search.options import DEFAULT_K  # noqa: E402
from qa.terminal import escape_controls  # noqa: E402
from qa.text.readers import SUPPORTED  # noqa: E402
from qa.views import page as views_page  # noqa: E402
from qa.views import pieces  # noqa: E402

HERE = Path(__file__).resolve().parent
PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # UI events; the API is /ask and /search
QUIET: dict[str, Any] = {**PRIVATE, "show_progress": "hidden"}  # the page shows its own "Searching…"


def build(service: ChatService) -> gr.Blocks:
    """The chat page and its API endpoints over one shared ChatService."""
    # delete_cache: Gradio's temporary copies of uploaded files go after a day (checked hourly)
    with gr.Blocks(title="qa", analytics_enabled=False, delete_cache=(3600, 86400), fill_height=True) as demo:
        ChatPage(service).wire(demo)
        gr.api(service.api_ask, api_name="ask")
        gr.api(service.api_search, api_name="search")
    return demo


class ChatPage:
    """The page's components (made in a gr.Blocks context) and the handlers that connect them
    to the service. Every handler returns {component: new value} for what it changes."""

    def __init__(self, service: ChatService):
        self.service = service
        self.examples = service.examples(HERE / "seeds" / "questions.jsonl")
        ov = service.overview()
        self.header = gr.HTML(service.header(), elem_id="qa-header")
        self.state = gr.State(ChatState())
        with gr.Row(elem_id="qa-main", equal_height=True):
            with gr.Column(scale=3, elem_id="qa-chat-col"):
                with gr.Row(elem_id="qa-tools"):
                    self.filters(ov)
                    self.uploads()
                    self.new_topic = gr.Button(
                        "New topic", size="sm", scale=0, min_width=100, elem_id="qa-new-topic"
                    )
                self.conv = gr.HTML(
                    service.render(ChatState(), self.examples, stamp=0),  # rendered anew on load
                    elem_id="qa-conv",
                    js_on_load=pieces.asset("conversation.js"),
                    apply_default_css=False,
                )
                with gr.Row(elem_id="qa-input"):
                    self.question = gr.Textbox(
                        label="Your question",
                        show_label=False,
                        placeholder="Ask about your articles…",
                        lines=1,
                        max_lines=4,
                        scale=5,
                        elem_id="qa-question",
                    )
                    self.ask = gr.Button("Ask", variant="primary", scale=0, min_width=72, elem_id="qa-ask")
            with gr.Column(scale=2, elem_id="qa-side"):
                js = pieces.asset("article.js")
                self.article = gr.HTML("", elem_id="qa-article", js_on_load=js, apply_default_css=False)

    def filters(self, ov: Overview) -> None:
        """Dates (with how many articles carry one), sections, sources: each only when it can narrow."""
        show = views_page.shown_filters(ov)
        with gr.Accordion("Filters", open=False, elem_id="qa-filters") as self.filters_box:
            self.dated = gr.HTML(views_page.dated_html(ov), elem_id="qa-dated")
            with gr.Row(visible=show["dates"], elem_id="qa-dates") as self.dates:
                self.date_from = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", elem_id="qa-from")
                self.date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", elem_id="qa-to")
                self.as_of = gr.Textbox(
                    label="As of (the day 'this week' and 'latest' count from)",
                    placeholder=ov.date_to or "YYYY-MM-DD",
                    elem_id="qa-as-of",
                )
            self.hint = gr.HTML("", elem_id="qa-filter-hint")  # under the fields
            label = views_page.undated_label(ov)
            self.undated = gr.Checkbox(label=label, visible=show["undated"], elem_id="qa-undated")
            with gr.Row():
                self.sections, self.sources = (
                    gr.Dropdown(list(choices), multiselect=True, label=name, visible=show[key], min_width=240)
                    for key, name, choices in (
                        ("sections", "Sections", ov.sections),
                        ("sources", "Sources", ov.sources),
                    )
                )
            self.k = gr.Slider(1, 10, value=DEFAULT_K, step=1, label="Passages to show", elem_id="qa-k")

    def uploads(self) -> None:
        with gr.Accordion("Add articles", open=False, elem_id="qa-add"):
            kinds = f"{' '.join(SUPPORTED)}, up to {MAX_UPLOAD_BYTES >> 20} MB each"
            self.files = gr.File(
                file_count="multiple", label=f"Article files ({kinds})", height=130, elem_id="qa-upload"
            )
            self.upload_status = gr.HTML(elem_id="qa-upload-status")

    def wire(self, demo: gr.Blocks) -> None:
        form = [self.k, self.date_from, self.date_to, self.sections, self.sources, self.undated, self.as_of]
        chat_out = [self.conv, self.state, self.question, self.hint, self.filters_box, self.article]
        for event in (self.question.submit, self.ask.click):
            event(self.respond, [self.question, self.state, *form], chat_out, **QUIET)
        self.conv.select(self.on_click, [self.state, *form], chat_out, **QUIET)
        self.article.select(lambda: "", None, self.article, **QUIET)  # its one button closes it
        dates = [self.date_from, self.date_to, self.as_of]
        for box in dates:
            box.blur(self.check_dates, dates, self.hint, **QUIET)
        refreshed = [self.header, self.dated, self.dates, self.undated, self.sections, self.sources]
        self.files.upload(
            self.add_files,
            [self.files, self.state],
            [self.upload_status, self.files, self.conv, *refreshed],
            show_progress_on=self.upload_status,
            **PRIVATE,
        )
        for event in (demo.load, self.new_topic.click):
            event(self.start_over, None, [self.state, self.conv, self.article, *refreshed], **QUIET)

    def respond(self, text: str, chat: ChatState, k: int, *values: Any) -> dict:
        *filter_values, as_of = values
        filters, hints = check_filters(*filter_values)
        hints += as_of_hints(as_of)
        page = self.service.render(chat, self.examples)  # re-rendered: drops the "Searching…" line
        if hints:  # the question stays in the box, the hint shows under the field, nothing else moves
            return {
                self.conv: page,
                self.hint: views_page.hint_html(hints),
                self.filters_box: gr.update(open=True),
            }
        if not text.strip():
            return {self.conv: page}
        chat = self.service.ask(chat, text, k, filters, as_of)
        page = self.service.render(chat, self.examples)
        return {self.conv: page, self.state: chat, self.question: "", self.hint: "", self.article: ""}

    def on_click(self, evt: gr.SelectData, chat: ChatState, *form: Any) -> dict:
        """A click in the conversation: an example, a citation, an article of the list, a vote."""
        verb, argument = pieces.parse_action(evt.value)
        if verb == "ex":
            return self.respond(argument, chat, *form)
        if verb == "ref":
            return {self.article: self.service.open_reference(argument, chat.replies)}
        if verb == "art":
            return {self.article: self.service.open_article(argument)}
        if verb in ("fb", "why"):
            try:
                chat = (self.service.vote if verb == "fb" else self.service.explain)(chat, argument)
            except QAError as ex:  # the feedback file cannot be written: say so, keep the page
                gr.Warning(str(ex))
        return {self.state: chat, self.conv: self.service.render(chat, self.examples)}

    def check_dates(self, date_from: str, date_to: str, as_of: str) -> str:
        return views_page.hint_html(check_filters(date_from, date_to)[1] + as_of_hints(as_of))

    def add_files(self, paths: list[str] | None, chat: ChatState, progress=gr.Progress()) -> dict:  # noqa: B008
        report = self.service.add_files(
            paths or [], lambda done, total: progress((done, total), desc="Embedding")
        )
        counts = {} if chat.shown else {self.conv: self.service.render(chat, self.examples)}  # first screen
        return {self.upload_status: report, self.files: None, **counts, **self.refresh()}

    def start_over(self) -> dict:
        """A new conversation (New topic, and each page load): the first screen, the index as it is now."""
        chat = ChatState()
        return {
            self.state: chat,
            self.conv: self.service.render(chat, self.examples),
            self.article: "",
            **self.refresh(),
        }

    def refresh(self) -> dict:
        """What depends on the index's content: the header, and which filters can narrow anything."""
        ov = self.service.overview()
        show = views_page.shown_filters(ov)
        return {
            self.header: self.service.header(),
            self.dated: views_page.dated_html(ov),
            self.dates: gr.update(visible=show["dates"]),
            self.undated: gr.update(label=views_page.undated_label(ov), visible=show["undated"]),
            self.sections: gr.update(choices=list(ov.sections), visible=show["sections"]),
            self.sources: gr.update(choices=list(ov.sources), visible=show["sources"]),
        }


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
        show_error=True,  # API callers get the message; the page says a mistake where it happened
        max_file_size=MAX_UPLOAD_BYTES,
        ssr_mode=False,
        theme=theme,
        css=pieces.asset("chat.css"),
        head=f"<style>{pieces.asset('frame.css')}</style>",
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
    cli = argparse.ArgumentParser(description="The qa browser chat")
    for option in serve.OPTIONS:
        cli.add_argument(
            option.flag,
            dest=option.name,
            type=int if option.kind == "port" else str,
            default=os.environ.get(option.env) or option.default,
            metavar=option.metavar or option.flag.strip("-").upper(),
            help=option.help,
        )
    args = cli.parse_args(argv)
    try:
        auth = serve.parse_auth(args.auth)
        serve.check_address(args.host, args.port)  # before minutes of indexing, not after
        service = ChatService.start(args.index_dir, seeds=[HERE / "seeds"], feedback_path=args.feedback)
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
