"""The one object the CLI, the chat and `qa eval` ask questions through.

Engine.from_index(path).ask(question) -> Answer. Keeping a single code path means
the chat, the command line and evaluation can never disagree about an answer.

    question -> follow-up context, dates -> fused candidates -> sentence evidence ->
    re-rank -> top k (no duplicate text, 2 per article) -> answer sentences or abstain

Each step is a function of its own module in qa/search/; this one only calls them in
order and holds what a loaded index needs (the embedder, the dense store, the confidence
model). The knobs of a search are SearchOptions (options.py); what a search hands to the
answer is a Retrieval (retrieval.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.config import default_index_dir
from qa.encode import backends
from qa.encode.embedder import Embedder
from qa.errors import QAError, QuestionError
from qa.index.generation import check_model, manifest_backend
from qa.index.passage_index import PassageIndex
from qa.text.articles import Article

from .answer import DONT_SAY, Answer, abstain_reason, choose_sentences
from .answer_type import read_question
from .confidence import (
    NULL_SIGNALS,
    ConfidenceModel,
    IndexNull,
    index_null,
    load_model,
    probe_vectors,
    signals,
)
from .conversation import (
    Mentions,
    Turn,
    cited_articles,
    contextual_query,
    mentioned_in,
    own_coverage,
    weaker,
)
from .dates import (
    DateIntent,
    date_intent,
    describe,
    only_time,
    time_fits,
    time_lift,
    without_phrase,
)
from .dense_store import DenseStore, FaissStore
from .evidence import QueryTerms, SentenceEvidence, query_terms, sentence_evidence
from .milvus_store import open_store
from .options import PURE, SearchOptions, check_question, cosine_weight
from .rank import favour, prefer_time, rerank, select
from .retrieval import Retrieval, evidence_note, remap
from .retrieve import Filters, Hit, search
from .span import answer_span

MAX_AS_OF_DISTANCE = timedelta(days=100 * 365)  # an as-of date further from every article is a typo


class Engine:
    """A loaded index plus the model that encodes questions (and where dense search runs)."""

    def __init__(self, index: PassageIndex, embedder: Embedder, store: DenseStore | None = None):
        check_model(index.manifest, embedder, index.root)
        self.index = index
        self.embedder = embedder
        self.store = store or FaissStore(index.dense)
        dates = (index.manifest.get("date_range") or [None, None])[1]
        self.as_of = date.fromisoformat(dates) if dates else date.today()

    @cached_property
    def day_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct days of the passages' articles (0: undated) and how many passages each has."""
        return np.unique(self.index.row_days, return_counts=True)

    @cached_property
    def confidence(self) -> ConfidenceModel:
        """The model that decides to answer, mark low confidence, or refuse (read on first use)."""
        return load_model()

    @cached_property
    def null(self) -> IndexNull:
        """What an unrelated question's best cosine is in this index (one search of the probe
        questions' shipped vectors, on first use; see qa/search/confidence.py)."""
        return index_null(self.index.dense, self.store, probe_vectors(self.embedder))

    @classmethod
    def from_index(
        cls, path: Path | str | None = None, embedder: Embedder | None = None, vector_store: str | None = None
    ) -> Engine:
        """Open the index at `path` (default: $QA_INDEX or ./index). Embeds nothing.

        Without an embedder, questions are encoded by the backend the index was built with.

        Args:
            vector_store: where dense search runs: "faiss" or "milvus:./milvus.db" or
                "milvus:http://host:19530" (default: $QA_VECTOR_STORE, else FAISS).
        """
        index = PassageIndex.load(Path(path) if path else default_index_dir())
        embedder = embedder or backends.default_embedder(manifest_backend(index.manifest))
        check_model(index.manifest, embedder, index.root)  # before copying vectors anywhere
        return cls(index, embedder, open_store(vector_store, index))

    def search(
        self,
        query: str,
        options: SearchOptions | None = None,
        filters: Filters | None = None,
        history: Sequence[Turn] = (),
    ) -> list[Hit]:
        """The top-k passages for `query`, ranked exactly as `ask` ranks them."""
        return self.retrieve(query, options, filters, history).hits

    def retrieve(
        self,
        question: str,
        options: SearchOptions | None = None,
        filters: Filters | None = None,
        history: Sequence[Turn] = (),
    ) -> Retrieval:
        """Run the ranking pipeline (see the module docstring) for one question.

        A follow-up is searched with the previous turn's terms (qa/search/conversation.py),
        unless that search is weaker than the question alone: then the question alone is used.
        """
        options = options or SearchOptions()
        question = check_question(question)
        found = self._search(question, options, filters, history)
        if not history or found.query == without_phrase(question, found.intent):
            return found
        alone = self._search(question, options, filters, ())
        if weaker(self._own_coverage(question, found), self._own_coverage(question, alone)):
            return alone
        return replace(found, own_evidence=self._own_evidence(alone, found, options))

    def _own_evidence(
        self, alone: Retrieval, found: Retrieval, options: SearchOptions
    ) -> list[SentenceEvidence] | None:
        """The expanded search's hits, their sentences scored for choosing the answer: words of
        the question alone, and a vector halfway between it and the expanded query. The
        carried terms find the article; the question's own words find the sentence in it
        ("Was anyone killed?" after a wildfire wants "found dead", not the fire's lead), while
        the carried topic still steers a question of few words ("Where was it played?")."""
        if alone.terms is None or alone.qvec is None or found.qvec is None or not alone.terms.own:
            return None  # "How many?": no words of its own; the searched query chooses
        both = alone.qvec + found.qvec
        both = both / (np.linalg.norm(both) or 1.0)
        weight = cosine_weight(options)
        return sentence_evidence(alone.terms, both, found.hits, self.index, cosine_weight=weight)

    def _mentions(self, history: Sequence[Turn]) -> Mentions:
        cited = cited_articles(history)
        return mentioned_in([self.index.articles[a].text for a in sorted(cited) if a in self.index.articles])

    @staticmethod
    def _own_coverage(question: str, found: Retrieval) -> list[float]:
        said = [found.hits[e.hit].article.text[slice(*e.span)] for e in found.evidence]
        return own_coverage(question, said)

    def _search(
        self, question: str, options: SearchOptions, filters: Filters | None, history: Sequence[Turn]
    ) -> Retrieval:
        intent = date_intent(question, self.as_of_date(options)) if options.dates else DateIntent()
        notes = (describe(intent),) if intent else ()
        if intent and not self.index.manifest.get("date_range"):
            # Nothing to prefer: keep the words, which may be the topic ("SARS cases in November 2002").
            notes, intent = (f"No article is dated, so “{intent.phrase}” cannot favour any.",), DateIntent()
        topic = without_phrase(question, intent)  # time words steer by date, not by words
        query = contextual_query(topic, history, self._mentions(history))
        qvec = self.embedder.embed([query])[0]
        window = Filters(intent.date_from, intent.date_to) if intent else None
        hits = search(
            self.index,
            qvec,
            query,
            depth=max(options.depth, options.k),
            fusion=options.fusion,
            weight=options.weight,
            filters=filters,
            store=self.store,
            prefer=window,
        )
        rows = [h.row for h in hits]  # one vectorised date fit for all candidates, not a parse per hit
        fits = dict(zip(rows, time_fits(self.index.row_days[rows], intent).tolist())) if intent else {}
        lift = time_lift(options.time_weight, intent, *self.day_counts) if intent else 0.0
        lift = 1.0 if intent and only_time(query) else lift  # "What happened this week?": time decides
        if query != topic:  # a follow-up also prefers the articles the previous turn cited
            hits = favour(hits, cited_articles(history))
        # Articles of the question's time enter the scored pool on a lift; it counts once, below.
        pool = sorted(hits, key=lambda h: -(h.score + lift * fits.get(h.row, 0.0)))
        pool = pool[: options.rerank_depth]
        terms = query_terms(topic, query[len(topic) :], self.index)
        evidence = sentence_evidence(terms, qvec, pool, self.index, cosine_weight=cosine_weight(options))
        # Scaled by the best fused score of all candidates, not of the pool: lifting articles of
        # the question's time into the pool must not change how the others compare.
        best = max((h.score for h in hits), default=0.0)
        ranked = rerank(pool, evidence, 0.0 if options.fusion in PURE else options.evidence_weight, best)
        if intent:
            ranked = prefer_time(ranked, [fits[h.row] for h in ranked], lift)
        top = select(ranked, options.k, options.per_article)
        best_dense = max((h.dense for h in hits), default=0.0)
        chosen = remap(evidence, pool, top)
        return Retrieval(query, top, chosen, notes, intent, terms, qvec, best_dense=best_dense)

    def as_of_date(self, options: SearchOptions) -> date:
        """The day "this week" counts back from: the option, else the newest article's date."""
        if options.as_of is None:
            return self.as_of
        day = date.fromisoformat(options.as_of)
        span = self.index.manifest.get("date_range")
        if span:
            first, last = (date.fromisoformat(d) for d in span)
            if not first - MAX_AS_OF_DISTANCE <= day <= last + MAX_AS_OF_DISTANCE:
                raise QuestionError(
                    f"as-of date {options.as_of} is far outside the articles' dates ({first} to {last}); "
                    f"give a date within {MAX_AS_OF_DISTANCE.days // 365} years of them"
                )
        return day

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
        Raises:
            QuestionError: the question is empty or too long.
        """
        options = options or SearchOptions()
        found = self.retrieve(question, options, filters, history)
        question = check_question(question)
        if not found.hits:
            why = "No article matches the filters." if filters and filters.active() else DONT_SAY
            return Answer(question, found.query, (), (), True, why, notes=found.notes)
        view = read_question(without_phrase(question, found.intent), found.query)  # time words ask no fact
        chosen_from = found.evidence if found.own_evidence is None else found.own_evidence
        citations = tuple(choose_sentences(view, chosen_from, found.hits))
        terms = found.terms or QueryTerms({}, {})
        reads = self.confidence.reads  # only what the model reads is measured
        null = self.null if NULL_SIGNALS & set(reads) else IndexNull(0.0, 1.0)
        passages = len(self.index.passages)
        measured = signals(terms, found.evidence, found.hits, passages, null, found.best_dense, reads)
        sure = self.confidence.probability(measured)
        floor = self.confidence.refuse_below if options.min_confidence is None else options.min_confidence
        reason = abstain_reason(sure, floor)
        if reason:
            return Answer(question, found.query, (), tuple(found.hits), True, reason, sure, found.notes)
        notes = found.notes + evidence_note(found.intent, citations, self.index)
        low = sure < self.confidence.low_below
        span = answer_span(view, citations[0]) if citations and not low else None  # weak evidence: no span
        return Answer(question, found.query, citations, tuple(found.hits), False, "", sure, notes, low, span)

    def article(self, article_id: str) -> Article:
        try:
            return self.index.articles[article_id]
        except KeyError:
            raise QAError(f"no article with id {article_id!r} in {self.index.root}") from None

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
