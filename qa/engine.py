"""The one object the CLI, the chat and `qa eval` ask questions through.

Engine.from_index(path).ask(question) -> Answer. Keeping a single code path means
the chat, the command line and evaluation can never disagree about an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from . import store
from .answer import Answer, choose_sentences, collapse_duplicates
from .articles import Article, Problem
from .config import DEFAULT_SOURCES, IndexSettings, default_index_dir
from .conversation import Turn, cited_articles, contextual_query
from .embed import Embedder, default_embedder
from .errors import NoArticlesError, QAError, QuestionError
from .evidence import score_sentences
from .index import IndexReport, PassageIndex, Progress, check_model, update_index
from .ingest import SUPPORTED, load_articles
from .retrieve import FUSIONS, Filters, Hit, search

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True, slots=True)
class SearchOptions:
    """Query-time knobs; the defaults are what the chat and CLI use."""

    k: int = 5
    depth: int = 100  # candidates taken from each retriever before fusion
    fusion: str = "convex"
    weight: float = 0.5  # share of the dense score in convex fusion

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise QAError(f"unknown fusion {self.fusion!r}; choose one of {', '.join(FUSIONS)}")
        if not 1 <= self.k <= 100:
            raise QAError(f"k={self.k} is out of range; choose 1 to 100 passages")


class Engine:
    """A loaded index plus the model that encodes questions."""

    def __init__(self, index: PassageIndex, embedder: Embedder):
        check_model(index.manifest, embedder, index.root)
        self.index = index
        self.embedder = embedder

    @classmethod
    def from_index(cls, path: Path | str | None = None, embedder: Embedder | None = None) -> Engine:
        """Open the index at `path` (default: $QA_INDEX or ./index). Embeds nothing."""
        index = PassageIndex.load(Path(path) if path else default_index_dir())
        return cls(index, embedder or default_embedder())

    def search(
        self,
        query: str,
        options: SearchOptions | None = None,
        filters: Filters | None = None,
        prefer: set[str] | None = None,
    ) -> list[Hit]:
        """Top-k passages for `query`, near-duplicates collapsed.

        Args:
            prefer: article ids to favour slightly (those cited earlier in a conversation).
        """
        options = options or SearchOptions()
        query = check_question(query)
        qvec = self.embedder.embed([query])[0]
        hits = search(
            self.index,
            qvec,
            query,
            depth=max(options.depth, options.k),
            fusion=options.fusion,
            weight=options.weight,
            filters=filters,
        )
        if prefer:
            hits = favour(hits, prefer)
        return collapse_duplicates(hits)[: options.k]

    def ask(
        self,
        question: str,
        options: SearchOptions | None = None,
        filters: Filters | None = None,
        history: Sequence[Turn] = (),
    ) -> Answer:
        """Answer `question` with verbatim, cited sentences from the top-k passages.

        Args:
            history: earlier turns of the conversation, oldest first; a follow-up is searched
                with their key terms and prefers the articles they cited.
        """
        question = check_question(question)
        query = contextual_query(question, history)
        hits = self.search(query, options, filters, prefer=cited_articles(history))
        if not hits:
            return Answer(question, query, (), (), True, "No article matches the filters.")
        scored = score_sentences(query, hits, self.index.bm25)
        return Answer(question, query, tuple(choose_sentences(scored, hits)), tuple(hits))

    def facets(self) -> dict[str, object]:
        """What the filters can choose from: sections, sources and the date range."""
        arts = self.index.articles.values()
        dates = sorted(a.date for a in arts if a.date)
        return {
            "sections": sorted({a.section for a in arts if a.section}),
            "sources": sorted({a.source for a in arts if a.source}),
            "date_from": dates[0] if dates else None,
            "date_to": dates[-1] if dates else None,
            "articles": len(self.index.articles),
            "passages": len(self.index.passages),
            "model": self.index.manifest["model"],
        }

    def article(self, article_id: str) -> Article:
        try:
            return self.index.articles[article_id]
        except KeyError:
            raise QAError(f"no article with id {article_id!r} in {self.index.root}") from None


def favour(hits: list[Hit], articles: set[str], bonus: float = 0.1) -> list[Hit]:
    """Lift hits from already-cited articles by a small bonus and re-sort."""
    lifted = [replace(h, score=h.score + bonus) if h.article.id in articles else h for h in hits]
    return sorted(lifted, key=lambda h: -h.score)


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


@dataclass(frozen=True, slots=True)
class BuildResult:
    """An index run's report plus the problems met reading the files."""

    report: IndexReport
    problems: tuple[Problem, ...]


def index_paths(
    paths: Sequence[Path | str],
    index_dir: Path | str | None = None,
    *,
    embedder: Embedder | None = None,
    keep_others: bool = False,
    rebuild: bool = False,
    settings: IndexSettings | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Read articles from files/folders and bring the index up to date with them.

    With no paths, re-reads the sources recorded in the index (or seeds/ for a new one).
    """
    root = Path(index_dir) if index_dir else default_index_dir()
    if not paths:
        paths = recorded_sources(root) or [str(p) for p in DEFAULT_SOURCES]
    loaded = load_articles(paths)
    if not loaded.articles:
        detail = "; ".join(str(p) for p in loaded.errors[:5])
        raise NoArticlesError(
            f"no readable articles in {', '.join(map(str, paths))}"
            + (f" ({detail})" if detail else "")
            + f"; supported files: {' '.join(SUPPORTED)}"
        )
    sources = [] if keep_others else [str(Path(p)) for p in paths]
    report = update_index(
        root,
        loaded.articles,
        embedder or default_embedder(),
        settings=settings,
        keep_others=keep_others,
        rebuild=rebuild,
        sources=sources,
        progress=progress,
    )
    return BuildResult(report, loaded.problems)


def recorded_sources(root: Path) -> list[str]:
    if not store.exists(root):
        return []
    try:
        return list(PassageIndex.load(root).manifest.get("sources") or [])
    except QAError:
        return []
