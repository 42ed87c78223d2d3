"""The browser chat's side of qa: one shared index, answers as chat replies, the
article behind a citation, uploads, feedback, and the JSON API endpoints.

Plain Python with no Gradio import: app.py connects components to a ChatService,
so the chat answers through the same Engine.ask as `qa ask` and `qa eval`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import jsonl, store, views
from .answer import Answer, answer_json, hit_json
from .articles import normalise_date
from .config import DEFAULT_SOURCES
from .conversation import Turn
from .embed import Embedder
from .engine import Engine, SearchOptions, index_paths
from .errors import QAError
from .index import Progress
from .retrieve import Filters
from .sources import has_index
from .uploads import UploadResult, add_uploads

log = logging.getLogger(__name__)
Message = dict[str, Any]
VERDICTS = {True: "up", False: "down", "Like": "up", "Dislike": "down"}
WELCOME = (
    "Ask about the articles. Answers are sentences quoted word for word, each with a "
    "citation [n]; click a citation or a source card to read the article."
)


@dataclass(frozen=True, slots=True)
class Reply:
    """One answered question, ready for the chat: its two messages and what to remember."""

    messages: tuple[Message, Message]
    turn: Turn
    data: dict[str, Any]  # answer_json(answer): kept to open citations and record feedback


def make_filters(
    date_from: str | None = None,
    date_to: str | None = None,
    sections: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
) -> Filters | None:
    """Filters from form values; blank values mean "any". Raises QAError on a bad date."""
    dates = []
    for label, value in (("from", date_from), ("to", date_to)):
        try:
            dates.append(normalise_date((value or "").strip()))
        except ValueError:
            raise QAError(f"date {label} {value!r} is not a date; write it as YYYY-MM-DD") from None
    filters = Filters(dates[0], dates[1], tuple(sections or ()), tuple(sources or ()))
    return filters if filters.active() else None


def feedback_record(data: Mapping[str, Any], verdict: str) -> dict[str, Any]:
    """A thumbs up/down as a `qa eval` question, so a judged answer can become a test.

    Up: the quoted sentences are the expected answers (or, for a reply that said the
    articles don't say, the question is marked unanswerable). Down: the answer is left
    for a person to fill in; what was shown is kept under "shown".
    """
    answer = data.get("answer")
    cited = list(dict.fromkeys(s["article_id"] for s in answer["sentences"])) if answer else []
    key = f"{data['question']}\x1f{answer['text'] if answer else ''}"
    record: dict[str, Any] = {
        "id": "fb-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12],
        "question": data["question"],
        "answers": [],
        "article_ids": [],
    }
    if verdict == "up" and answer:
        record.update(answers=[s["text"] for s in answer["sentences"]], article_ids=cited)
    elif verdict == "up":
        record["unanswerable"] = True
    record.update(
        feedback=verdict,
        query=data["query"],
        shown={"answer": answer["text"] if answer else None, "article_ids": cited},
        at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    return record


def example_questions(path: Path, articles: Collection[str], limit: int = 6) -> list[str]:
    """Answerable questions from a `qa eval` file whose articles are all in the index."""
    if not path.is_file():
        return []
    found = []
    try:
        rows = [row for row in store.read_jsonl(path) if isinstance(row, dict)]
    except (OSError, UnicodeDecodeError, ValueError) as ex:
        log.warning("no example questions: %s is unreadable (%s)", path, ex)
        return []
    for row in rows:
        answerable = row.get("article_ids") and not row.get("unanswerable")
        if row.get("question") and answerable and all(a in articles for a in row["article_ids"]):
            found.append(str(row["question"]))
    return found[:limit]


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
        self.feedback_path = Path(feedback_path or self.index_dir / "feedback" / "feedback.jsonl")
        self.upload_dir = Path(upload_dir or self.index_dir / "uploads")
        self._seen = self._current_stamp()  # before loading: a switch during the load is seen later
        self.engine = Engine.from_index(self.index_dir, embedder=embedder)  # None: the index's backend
        self.embedder = self.engine.embedder
        self._indexing, self._feedback, self._reloading = threading.Lock(), threading.Lock(), threading.Lock()
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
        root = Path(index_dir)
        store.check_folder(root)
        if not store.exists(root):
            # What is left of an index (sources.json, generations) is rebuilt from its own sources.
            paths = [] if has_index(root) else list(seeds)
            log.warning(
                "no index at %s yet; building one from %s", root, ", ".join(map(str, paths)) or "its sources"
            )
            index_paths(paths, root, embedder=options.get("embedder"), progress=progress)
        return cls(index_dir, **options)

    def warm_up(self) -> None:
        """Load the model now (embeds one query, no article), so the first real question is fast."""
        try:
            self.engine.embedder.embed(["warm up"])
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
            info = os.stat(self.index_dir / store.CURRENT)
        except OSError:
            return None
        return info.st_ino, info.st_mtime_ns, info.st_size

    def facets(self) -> dict[str, Any]:
        return self.current_engine().facets()

    def header(self) -> str:
        return views.header_html(self.facets())

    def respond(
        self,
        question: str,
        turns: Sequence[Turn],
        reply_no: int,
        k: int = 5,
        filters: Filters | None = None,
        as_of: str | None = None,
    ) -> Reply:
        """Answer a chat message; `reply_no` numbers this reply for its citation links."""
        options = SearchOptions(k=int(k), as_of=(as_of or "").strip() or None)
        answer = self.current_engine().ask(question, options, filters, history=turns)
        data = answer_json(answer)
        html = views.reply_html(reply_no, data, self.bodies(answer))
        messages = (
            {"role": "user", "content": views.inline(answer.question)},
            {"role": "assistant", "content": html},
        )
        return Reply(messages, answer.turn(), data)

    def bodies(self, answer: Answer) -> dict[str, str]:
        return {h.article.id: h.article.text for h in answer.hits}

    def open_reference(self, ref: str, replies: Sequence[Mapping[str, Any]]) -> str:
        """The article a citation link points at, with its passage and quoted sentences marked."""
        parsed = views.parse_ref(ref)
        if (
            not parsed
            or parsed[0] >= len(replies)
            or not 1 <= parsed[1] <= len(replies[parsed[0]]["passages"])
        ):
            return views.notice_html("That citation is no longer in this conversation.")
        data = replies[parsed[0]]
        passage = data["passages"][parsed[1] - 1]
        try:
            article = self.current_engine().article(passage["article_id"])
        except QAError:
            return views.notice_html("That article is no longer in the index.")
        if article.text[passage["start"] : passage["end"]] != passage["text"]:
            note = views.notice_html("The article has changed since this answer; the passage is not marked.")
            return note + views.article_html(article)
        sentences = data["answer"]["sentences"] if data.get("answer") else []
        marks = [(s["start"], s["end"]) for s in sentences if s["citation"] == passage["rank"]]
        return views.article_html(article, (passage["start"], passage["end"]), marks)

    def upload(self, files: Sequence[Path | str], progress: Progress | None = None) -> UploadResult:
        """Add uploaded files to the index, then answer from the new index at once."""
        with self._indexing:  # one upload at a time; questions go on meanwhile
            result = add_uploads(
                files, self.upload_dir, self.index_dir, embedder=self.embedder, progress=progress
            )
            if result.build:
                self.current_engine()  # the upload published a new generation: answer from it at once
        return result

    def record_feedback(self, data: Mapping[str, Any], liked: bool | str) -> dict[str, Any]:
        """Append a thumbs up/down to the feedback file (JSON lines); returns the record."""
        record = feedback_record(data, VERDICTS.get(liked, "down"))
        with self._feedback:
            try:
                self.feedback_path.parent.mkdir(parents=True, exist_ok=True)
                jsonl.append(self.feedback_path, record)  # one write; a write cut short is undone
            except OSError as ex:
                raise QAError(
                    f"could not save the feedback to {self.feedback_path} ({ex.strerror}); "
                    "free some disk space or make the folder writable (set another with --feedback)"
                ) from None
        return record

    def examples(self, questions: Path) -> list[str]:
        return example_questions(questions, self.engine.index.articles)

    def api_ask(
        self,
        question: str,
        k: int = 5,
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
        k: int = 5,
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
