"""The browser chat's side of qa: one shared index, answers as conversation turns, the
article behind a citation, the first screen, uploads, feedback, and the JSON API endpoints.

Plain Python with no Gradio import: app.py connects components to a ChatService,
so the chat answers through the same Engine.ask as `qa ask` and `qa eval`.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa import layout
from qa.config import DEFAULT_SOURCES
from qa.encode.embedder import Embedder, Progress
from qa.errors import QAError
from qa.index import library
from qa.index.build import ensure_index
from qa.layout import FEEDBACK
from qa.search.answer import Answer, answer_json, hit_json
from qa.search.conversation import Turn
from qa.search.engine import Engine
from qa.search.options import DEFAULT_K, SearchOptions
from qa.search.retrieve import Filters
from qa.views import page as views_page
from qa.views import pieces
from qa.views import reply as views_reply

from .feedback import VERDICTS, FeedbackLog, feedback_record
from .filters import make_filters
from .state import ChatState, parse_vote
from .upload_report import upload_rows
from .uploads import UploadResult, add_uploads

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reply:
    """One answered question, ready for the chat: its HTML and what to remember."""

    html: str  # the answer part of the turn (views_reply.answer_html)
    turn: Turn
    data: dict[str, Any]  # answer_json(answer): kept to open citations and record feedback


def _tell(line: str) -> None:
    """A slow step's one-line news (the first run's model export, about 20 s), as `qa index`
    prints it: the chat logs it, where its start-up lines go."""
    log.warning("%s", line)


class ChatService:
    """What every browser session shares: the index, the model, uploads and feedback."""

    def __init__(
        self,
        index_dir: Path | str,
        *,
        embedder: Embedder | None = None,
        feedback_path: Path | str | None = None,
        upload_dir: Path | str | None = None,
    ):
        self.index_dir = Path(index_dir)
        self.feedback_path = Path(feedback_path or self.index_dir / FEEDBACK)
        self.upload_dir = Path(upload_dir or self.index_dir / "uploads")
        self._seen = self._current_stamp()  # before loading: a switch during the load is seen later
        self.engine = Engine.from_index(self.index_dir, embedder=embedder)  # None: the index's backend
        self.embedder = self.engine.embedder
        self.feedback = FeedbackLog(self.feedback_path)
        self._indexing, self._reloading = threading.Lock(), threading.Lock()
        self._stamps = itertools.count(1)
        self.warmed = threading.Event()  # set once the model has answered its first query

    @classmethod
    def start(
        cls,
        index_dir: Path | str,
        seeds: Sequence[Path | str] = DEFAULT_SOURCES,
        progress: Progress | None = None,
        **options: Any,
    ) -> ChatService:
        """Open the index at `index_dir`, building it from `seeds` first if there is none."""
        ensure_index(index_dir, seeds, embedder=options.get("embedder"), progress=progress, notify=_tell)
        return cls(index_dir, **options)

    def warm_up(self) -> None:
        """Load the model now (embeds one query, no article), so the first real question is fast."""
        try:
            prepare = getattr(self.engine.embedder, "prepare", None)  # ONNX: the first run exports
            if prepare is not None:
                prepare(_tell)
            self.engine.embedder.embed(["warm up"])
            _ = self.engine.null  # the confidence model's probe search of this index (once)
        finally:
            self.warmed.set()

    def current_engine(self) -> Engine:
        """The engine over the live generation, switched between questions when another
        process (a CLI `qa index`) has published a new one.

        The check is one stat() of CURRENT per question; loading embeds nothing. While one
        thread loads, the others go on answering from the previous generation.
        """
        stamp = self._current_stamp()
        if stamp is None or stamp == self._seen or not self._reloading.acquire(blocking=False):
            return self.engine
        try:
            self.engine = Engine.from_index(self.index_dir, embedder=self.embedder)
            log.info("switched to the new generation %s of %s", self.engine.index.folder.name, self.index_dir)
        except QAError as ex:
            log.warning(
                "keeping the previous index: the new one at %s does not load (%s)", self.index_dir, ex
            )
        finally:
            self._seen = stamp
            self._reloading.release()
        return self.engine

    def _current_stamp(self) -> tuple[int, int, int] | None:
        """Identity of CURRENT: every publish replaces the file, so its inode changes."""
        try:
            info = os.stat(self.index_dir / layout.CURRENT)
        except OSError:
            return None
        return info.st_ino, info.st_mtime_ns, info.st_size

    def facets(self) -> dict[str, Any]:
        return self.current_engine().facets()

    def overview(self) -> library.Overview:
        return library.overview(self.current_engine().index)

    def header(self) -> str:
        return views_page.header_html(self.overview())

    def examples(self, *extra: Path) -> list[str]:
        """Example questions from `extra` files and the questions.jsonl beside the indexed folders."""
        sources = self.current_engine().index.manifest.get("sources") or []
        return library.example_questions(library.question_files(sources, extra), self.engine.index.articles)

    def render(self, state: ChatState, examples: Sequence[str] = (), stamp: int | None = None) -> str:
        """The conversation as HTML; before the first question, the first screen (what is
        indexed, example questions, the list of articles). Each render gets a new `stamp`
        (0 marks the page as first served, before its load event renders it anew)."""
        parts = state.turn_parts()
        if not parts:
            entries = library.entries(self.current_engine().index.articles)
            parts = [views_page.welcome_html(self.overview(), examples, entries)]
        return views_reply.conversation_html(parts, next(self._stamps) if stamp is None else stamp)

    def ask(
        self,
        state: ChatState,
        question: str,
        k: int = DEFAULT_K,
        filters: Filters | None = None,
        as_of: str | None = None,
    ) -> ChatState:
        """The conversation with one more turn: the answer, or what was wrong with the question."""
        try:
            reply = self.respond(question, state.turns, len(state.replies), k, filters, as_of)
        except QAError as ex:
            return state.with_error(question, str(ex))
        return state.with_reply(reply.data["question"], reply.html, reply.turn, reply.data)

    def vote(self, state: ChatState, argument: str) -> ChatState:
        """A thumbs up or down on reply n ("n:up", "n:down"), recorded once."""
        parsed = parse_vote(argument, state.replies)
        if not parsed or parsed[1] not in ("up", "down") or parsed[0] in state.votes:
            return state
        return state.with_vote(parsed[0], self.record_feedback(state.replies[parsed[0]], parsed[1]))

    def explain(self, state: ChatState, argument: str) -> ChatState:
        """What was wrong with reply n ("n:text"), added to its thumbs-down line."""
        parsed = parse_vote(argument, state.replies)
        if not parsed or parsed[0] not in state.votes:
            return state
        row = self.add_feedback_reason(state.votes[parsed[0]], parsed[1])
        return state.with_vote(parsed[0], row) if row else state

    def respond(
        self,
        question: str,
        turns: Sequence[Turn],
        reply_no: int,
        k: int = DEFAULT_K,
        filters: Filters | None = None,
        as_of: str | None = None,
    ) -> Reply:
        """Answer a chat message; `reply_no` numbers this reply for its citation links."""
        options = SearchOptions(k=int(k), as_of=(as_of or "").strip() or None)
        answer = self.current_engine().ask(question, options, filters, history=turns)
        data = answer_json(answer)
        html = views_reply.answer_html(reply_no, data, self.bodies(answer), self.scope(filters))
        return Reply(html, answer.turn(), data)

    def bodies(self, answer: Answer) -> dict[str, str]:
        return {h.article.id: h.article.text for h in answer.hits}

    def scope(self, filters: Filters | None) -> str:
        """What a question searched, in words: "your 100 articles" or "the 3 articles the filters allow"."""
        articles = self.current_engine().index.articles
        if filters is None or not filters.active():
            return f"your {pieces.plural(len(articles), 'article')}"
        allowed = sum(filters.allows(a) for a in articles.values())
        return f"the {pieces.plural(allowed, 'article')} the filters allow"

    def open_reference(self, ref: str, replies: Sequence[Mapping[str, Any]]) -> str:
        """The article a citation link points at, with its passage and quoted sentences marked."""
        return pieces.cited_article_html(self.current_engine().article, ref, replies)

    def open_article(self, article_id: str) -> str:
        """An article picked from the list on the first screen."""
        return pieces.listed_article_html(self.current_engine().article, article_id)

    def upload(self, files: Sequence[Path | str], progress: Progress | None = None) -> UploadResult:
        """Add uploaded files to the index, then answer from the new index at once."""
        return self._upload(files, progress)[0]

    def add_files(self, files: Sequence[Path | str], progress: Progress | None = None) -> str:
        """Upload, and report file by file (added, updated, already indexed, refused and why)."""
        result, before = self._upload(files, progress)
        articles = self.engine.index.articles
        total = len(articles) if result.build else None
        return views_page.uploads_html(upload_rows(result, before, articles), total)

    def _upload(
        self, files: Sequence[Path | str], progress: Progress | None
    ) -> tuple[UploadResult, dict[str, str]]:
        with self._indexing:  # one upload at a time; questions go on meanwhile
            before = {i: a.content_hash for i, a in self.engine.index.articles.items()}
            result = add_uploads(
                files, self.upload_dir, self.index_dir, embedder=self.embedder, progress=progress
            )
            if result.build:
                self.current_engine()  # the upload published a new generation: answer from it at once
        return result, before

    def record_feedback(self, data: Mapping[str, Any], liked: bool | str) -> dict[str, Any]:
        """Append a thumbs up/down to the feedback file (JSON lines); returns the record."""
        record = feedback_record(data, VERDICTS.get(liked, "down"))
        self.feedback.append(record)
        return record

    def add_feedback_reason(self, record: Mapping[str, Any], reason: str) -> dict[str, Any] | None:
        """What was wrong, written into the line of an earlier thumbs down."""
        return self.feedback.add_reason(record, reason)

    def api_ask(
        self,
        question: str,
        k: int = DEFAULT_K,
        date_from: str = "",
        date_to: str = "",
        sections: list[str] | None = None,
        sources: list[str] | None = None,
        as_of: str = "",
    ) -> dict[str, Any]:
        """Answer a question with sentences quoted from the articles: the JSON of `qa ask --json`.

        `as_of` (YYYY-MM-DD) is the day "this week" or "latest" count back from; by default
        the newest article's date. date_from/date_to remove articles; time words never do.
        """
        filters = make_filters(date_from, date_to, sections, sources)
        options = SearchOptions(k=int(k), as_of=as_of.strip() or None)
        return answer_json(self.current_engine().ask(question, options, filters))

    def api_search(
        self,
        query: str,
        k: int = DEFAULT_K,
        date_from: str = "",
        date_to: str = "",
        sections: list[str] | None = None,
        sources: list[str] | None = None,
        as_of: str = "",
    ) -> dict[str, Any]:
        """The top passages for a query, each as in the "passages" of `qa ask --json`."""
        filters = make_filters(date_from, date_to, sections, sources)
        options = SearchOptions(k=int(k), as_of=as_of.strip() or None)
        hits = self.current_engine().search(query, options, filters)
        return {"query": query, "passages": [hit_json(h, n) for n, h in enumerate(hits, start=1)]}
