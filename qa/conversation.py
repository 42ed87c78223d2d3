"""Follow-up questions without a language model.

A short or referring follow-up ("what did NATO say about it?", "and the foreign
minister?") is searched together with the key terms of the previous turns, and
articles already cited in the conversation are preferred.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_TERM = re.compile(r"[A-Za-z0-9][\w'-]*")
REFERRING = {
    "it",
    "its",
    "they",
    "them",
    "their",
    "theirs",
    "he",
    "him",
    "his",
    "she",
    "her",
    "this",
    "that",
    "these",
    "those",
    "there",
    "then",
    "the same",
    "such",
}
OPENERS = ("and ", "but ", "also ", "what about", "how about", "what else", "why", "how so", "so ")
STOP = {
    "a",
    "an",
    "the",
    "of",
    "to",
    "in",
    "on",
    "at",
    "for",
    "by",
    "with",
    "from",
    "about",
    "as",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "do",
    "does",
    "did",
    "has",
    "have",
    "had",
    "what",
    "who",
    "whom",
    "which",
    "when",
    "where",
    "why",
    "how",
    "and",
    "or",
    "but",
    "not",
    "no",
    "any",
    "some",
    "say",
    "said",
    "says",
    "tell",
    "me",
    "us",
    "more",
    "else",
    "also",
    "other",
    "there",
    "than",
    "then",
    "will",
    "would",
    "can",
    "could",
    "should",
    "may",
    "might",
    "i",
    "you",
    "we",
    "one",
    "many",
    "much",
    "new",
    "according",
} | REFERRING
MAX_CARRIED_TERMS = 8


@dataclass(frozen=True, slots=True)
class Turn:
    """One earlier exchange: what was asked, what was searched, which articles were cited."""

    question: str
    query: str = ""
    article_ids: tuple[str, ...] = ()


def content_terms(text: str) -> list[str]:
    """Words that carry the topic. Example: "What did NATO say about it?" -> ["NATO"]"""
    seen: dict[str, str] = {}
    for word in _TERM.findall(text):
        key = word.lower()
        if key not in STOP and len(key) > 1 and key not in seen:
            seen[key] = word
    return list(seen.values())


def is_follow_up(question: str) -> bool:
    """True for a question that leans on earlier turns: referring words, an opener, or very short."""
    lowered = " " + question.lower().strip() + " "
    words = set(re.findall(r"[a-z']+", lowered))
    refers = bool(words & REFERRING) or any(f" {r} " in lowered for r in REFERRING if " " in r)
    return refers or lowered.lstrip().startswith(OPENERS) or len(content_terms(question)) <= 2


def contextual_query(question: str, history: Sequence[Turn]) -> str:
    """The query to search: the question, plus the previous topic's terms for a follow-up."""
    if not history or not is_follow_up(question):
        return question
    have = {t.lower() for t in content_terms(question)}
    carried: list[str] = []
    for turn in reversed(history[-3:]):  # the latest turn's terms first
        for term in content_terms(turn.query or turn.question):
            if term.lower() not in have and len(carried) < MAX_CARRIED_TERMS:
                have.add(term.lower())
                carried.append(term)
    return f"{question} {' '.join(carried)}".strip() if carried else question


def cited_articles(history: Sequence[Turn]) -> set[str]:
    return {aid for turn in history[-3:] for aid in turn.article_ids}
