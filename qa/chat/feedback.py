"""Thumbs up/down from the chat, kept as `qa eval` questions in a JSON-lines file.

A judged answer becomes a test: a thumbs up keeps the quoted sentences as the expected
answers, a thumbs down leaves them for a person to fill in, with what was wrong when
the person said so ("reason"). The file is only appended to, except that a reason given
after the thumbs down is written into that same line (the file is rewritten whole and
swapped in atomically, so a crash leaves the old file or the new one, never half).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qa import jsonl
from qa.errors import QAError

VERDICTS = {True: "up", False: "down", "Like": "up", "Dislike": "down", "up": "up", "down": "down"}
MAX_REASON_CHARS = 1000


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


class FeedbackLog:
    """The feedback file; safe to share between the threads of one chat server."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, record: Mapping[str, Any]) -> None:
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                jsonl.append(self.path, record)  # one write; a write cut short is undone
            except OSError as ex:
                raise QAError(
                    f"could not save the feedback to {self.path} ({ex.strerror}); "
                    "free some disk space or make the folder writable (set another with --feedback)"
                ) from None

    def add_reason(self, record: Mapping[str, Any], reason: str) -> dict[str, Any] | None:
        """Write what was wrong into the line of `record` (same id and time); None if it is gone."""
        reason = " ".join(str(reason).split())[:MAX_REASON_CHARS]
        with self._lock:
            if not reason or not self.path.is_file():
                return None
            lines = [line for _, line in jsonl.lines(self.path.read_text(encoding="utf-8"))]
            while lines and not lines[-1].strip():
                lines.pop()
            for i in range(len(lines) - 1, -1, -1):  # the newest first: it is nearly always the last line
                row = _parse(lines[i])
                if row and row.get("id") == record["id"] and row.get("at") == record["at"]:
                    row["reason"] = reason
                    lines[i] = json.dumps(row, ensure_ascii=False)
                    self._replace("\n".join(lines) + "\n")
                    return row
        return None

    def _replace(self, content: str) -> None:
        partial = self.path.with_name(f".{self.path.name}.part")
        partial.write_text(content, encoding="utf-8")
        os.replace(partial, self.path)


def _parse(line: str) -> dict[str, Any] | None:
    try:
        row = json.loads(line)
    except ValueError:
        return None
    return row if isinstance(row, dict) else None
