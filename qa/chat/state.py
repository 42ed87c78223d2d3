"""One browser session's conversation as plain data, and how it turns into the page.

A ChatState is immutable: each question, thumbs or reason gives a new one (Gradio keeps
one per session). The page is rendered from it whole; qa.views.reply builds the pieces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from qa.search.conversation import Turn
from qa.views.reply import error_html, feedback_html, turn_html


@dataclass(frozen=True, slots=True)
class Shown:
    """One turn on screen: the question as typed, the answer's HTML, and which reply it is."""

    question: str
    body: str
    reply: int | None = None  # index into ChatState.replies; None for a question that got an error


@dataclass(frozen=True, slots=True)
class ChatState:
    """What a session remembers: the turns for follow-ups, each answer's JSON, what is shown,
    and the feedback given (reply -> the feedback record, with "reason" once given)."""

    turns: tuple[Turn, ...] = ()
    replies: tuple[dict[str, Any], ...] = ()
    shown: tuple[Shown, ...] = ()
    votes: Mapping[int, dict[str, Any]] = field(default_factory=dict)

    def with_reply(self, question: str, body: str, turn: Turn, data: dict[str, Any]) -> ChatState:
        shown = Shown(question, body, len(self.replies))
        return replace(
            self, turns=(*self.turns, turn), replies=(*self.replies, data), shown=(*self.shown, shown)
        )

    def with_error(self, question: str, message: str) -> ChatState:
        return replace(self, shown=(*self.shown, Shown(question, error_html(message))))

    def with_vote(self, reply: int, record: dict[str, Any]) -> ChatState:
        return replace(self, votes={**self.votes, reply: record})

    def turn_parts(self) -> list[str]:
        """The HTML of every turn, oldest first, each with its feedback bar."""
        return [
            turn_html(
                s.question, s.body, "" if s.reply is None else feedback_html(s.reply, self.votes.get(s.reply))
            )
            for s in self.shown
        ]


def parse_vote(argument: str, replies: Sequence[Any]) -> tuple[int, str] | None:
    """Reply index and what follows it, from a click. Example: "3:down" -> (3, "down") when reply 3 exists."""
    number, _, rest = argument.partition(":")
    if not number.isdigit() or int(number) >= len(replies):
        return None
    return int(number), rest
