"""Query-time knobs shared by the chat, the CLI and `qa eval`: SearchOptions and their checks.

The one home of k, the passages a reply shows (DEFAULT_K, EVAL_K, MAX_K): the CLI, the
chat, `qa eval` and the benchmarks take their defaults and limits from here instead of
restating the numbers.

Light on purpose (dataclasses and qa.errors only): the CLI and the chat import it while
building their options, and `qa --help` must not load the index or the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from qa.errors import QAError, QuestionError

MAX_QUESTION_CHARS = 2000
DEFAULT_K = 5  # passages an answer shows: the chat, `qa ask` and the library's default
EVAL_K = 10  # passages `qa eval` scores per question (its metrics are @10)
MAX_K = 100  # the most passages one question may ask for


@dataclass(frozen=True, slots=True)
class SearchOptions:
    """Query-time knobs; the defaults are what the chat, the CLI and `qa eval` use."""

    k: int = DEFAULT_K
    depth: int = 100  # candidates taken from each retriever before fusion
    fusion: str = "convex"
    weight: float = 0.5  # share of the dense score in convex fusion
    rerank_depth: int = 30  # fused candidates whose sentences are scored
    evidence_weight: float = 0.5  # share of the best sentence's evidence in the final passage score
    per_article: int = 2  # passages of one article in the top k (0: no limit)
    min_confidence: float | None = None  # refuse below (default: the confidence model's threshold)
    dates: bool = True  # read time words in the question as a preference for articles of that time
    time_weight: float = 0.1  # lift of a perfect date fit; passage scores are in [0, 1]
    as_of: str | None = None  # "this week" counts back from this day (default: the newest article's)

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise QAError(f"unknown fusion {self.fusion!r}; choose one of {', '.join(FUSIONS)}")
        if not 1 <= self.k <= MAX_K:
            raise QAError(f"k={self.k} is out of range; choose 1 to {MAX_K} passages")
        if self.as_of is not None:
            check_as_of(self.as_of)


# The one-retriever baselines stay pure: their own signal picks sentences (cosine's share of a
# sentence's evidence score), and nothing re-ranks their passages.
PURE = {"bm25": 0.0, "dense": 1.0}


def cosine_weight(options: SearchOptions) -> float:
    """Cosine's share of a sentence's evidence score."""
    return PURE.get(options.fusion, 0.5)


def check_as_of(value: str) -> date:
    """An as-of date must be a real YYYY-MM-DD day."""
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise QuestionError(f"as-of date {value!r} is not a date; write it as YYYY-MM-DD") from None


def check_question(question: str) -> str:
    """Strip a question and reject what cannot be searched."""
    cleaned = "".join(ch for ch in str(question) if ch.isprintable() or ch in "\t\n").strip()
    if not any(ch.isalnum() for ch in cleaned):
        raise QuestionError("the question is empty; type a question with at least one word")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is {len(cleaned):,} characters; the limit is "
            f"{MAX_QUESTION_CHARS:,}. Shorten it to the part you want answered"
        )
    return cleaned


FUSIONS = ("convex", "rrf", "dense", "bm25")
