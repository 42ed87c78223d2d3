"""What kind of answer a question asks for, read from its wording alone.

"Who leads ...?" wants a name, "How many ...?" a number, "When ...?" a date. The sentence
chooser rewards sentences that hold a phrase of that kind, and the answer span marks it.
A question matching no rule is "other": it gets neither the reward nor a span, because a
guess here would mark the wrong words (no span is better than a wrong one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from qa.index.lexical import stopwords

_WORD = re.compile(r"\w+")
_TERM = re.compile(r"(?u)\b\w\w+\b")  # bm25s's token pattern
STOP_WORDS = frozenset("the a an of and in on at to for by s".split())
KINDS = ("person", "organisation", "name", "number", "date", "place", "cause")
OTHER = "other"
ORG_NOUNS = (
    "agency|company|companies|firm|organi[sz]ation|team|party|university|college|school|newspaper|"
    "network|station|channel|band|group|club|league|bank|ministry|department|government|council|"
    "committee|court|army|navy|force|corporation|institute|church|magazine|airline|brand|publisher"
)
PLACE_NOUNS = (
    "country|countries|city|cities|state|states|town|region|province|continent|island|river|place|"
    "location|area|county|district|nation|village|capital|port|airport|stadium|venue|street|ocean|sea"
)
NUMBER_NOUNS = "percentage|percent|proportion|share|number|amount|population|total|rate|cost|price|size|sum"
DATE_NOUNS = "year|years|date|day|month|century|decade|time|era|period|season"
AUXILIARY = r"(?:is|was|are|were|did|does|do|has|have|had|can|could|would|will|should|may|might)\b"


def lead(nouns: str) -> str:
    """'what/which' and a noun of the list, with up to two words between that are not verbs:
    "Which NFL team ...", "What is the population ...", but not "What did the team win?"."""
    gap = rf"(?:(?!{AUXILIARY})[\w'-]+\s+){{0,2}}?"
    return rf"(?:what|which)\s+(?:(?:is|was|are|were)\s+)?(?:the\s+)?{gap}(?:{nouns})\b"


# Tried in order at the question's first wh-word ("What does someone who completes ...?"
# asks "what", not "who"); the first match names the kind ("how many years" is a number).
RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("number", r"how (many|much|long|old|far|large|big|tall|high|often|deep|wide|fast|heavy|hot|cold)\b"),
        ("number", lead(NUMBER_NOUNS)),
        ("date", r"when\b"),
        ("date", lead(DATE_NOUNS)),
        ("place", r"where\b"),
        ("place", lead(PLACE_NOUNS)),
        ("cause", r"why\b|(what|which) (caused|causes|led to|leads to)\b"),
        ("cause", r"what (was|is|were|are) the (main |primary )?(reason|cause)s?\b"),
        ("name", r"what (was|is|were|are) (his|her|their|its|the) (full |real |official )?names?\b"),
        ("organisation", lead(ORG_NOUNS)),
        ("person", r"who(m|se)?\b"),
    )
)
_WH = re.compile(r"\b(?:who|whom|whose|what|which|when|where|why|how)\b", re.IGNORECASE)


def expected_kind(question: str) -> str:
    """The kind of answer asked for, one of KINDS or OTHER.

    Examples: "Who leads the delegation?" -> "person"; "How many troops?" -> "number";
    "In what year did it open?" -> "date"; "Which agency reported it?" -> "organisation";
    "What did NATO say?" -> "other".
    """
    wh = _WH.search(question)
    if wh is None:
        return OTHER
    asked = question[wh.start() :]
    return next((kind for kind, pattern in RULES if pattern.match(asked)), OTHER)


def names_kind(kind: str) -> bool:
    """Persons, organisations and other named things are all written as capitalised names."""
    return kind in ("person", "organisation", "name")


@dataclass(frozen=True, slots=True)
class QuestionView:
    """The question as the features need it: its kind and its stemmed terms."""

    kind: str
    terms: frozenset[str]  # stemmed, stop words dropped (as BM25 sees them)
    bigrams: frozenset[tuple[str, str]]
    words: frozenset[str]  # every word, lower-cased: to tell a phrase the question already holds
    detail: str = ""  # a finer kind: "money", "percent", "duration", "count", "year", "century"
    counted: str = ""  # for "how many X": the stem of X ("troops" -> "troop")

    @classmethod
    def of(cls, question: str, kind: str) -> QuestionView:
        terms = stemmed_terms([question])[0]
        words = frozenset(w.lower() for w in _WORD.findall(question))
        detail, counted = answer_detail(question, kind)
        return cls(kind, frozenset(terms), frozenset(zip(terms, terms[1:])), words, detail, counted)


def read_question(question: str, query: str = "") -> QuestionView:
    """The view the chooser and the span use. A follow-up is searched with the previous
    turn's terms, but its sentence is chosen by what it asks itself ("Who founded it?" wants
    the sentence with "founded", not the one restating the earlier topic); only a question
    with no words of its own ("How many?") is read through the searched query."""
    own = stemmed_terms([question])[0]
    return QuestionView.of(question if own or not query else query, expected_kind(question))


DETAILS = (
    ("number", "percent", re.compile(r"\b(percent|percentage|per cent|proportion|share|rate)\b", re.I)),
    ("number", "money", re.compile(r"\b(cost|costs|price|paid|pay|spend|spent|worth|budget|revenue|fee|money|"
                                   r"salary|funding|dollars|euros|pounds|raise|raised|sold for)\b", re.I)),
    ("number", "duration", re.compile(r"\bhow long\b|\bhow many (years|months|weeks|days|hours|minutes)\b",
                                      re.I)),
    ("number", "count", re.compile(r"\bhow many ([A-Za-z-]+)", re.I)),
    ("date", "year", re.compile(r"\b(what|which|in what|in which) (year|decade)\b", re.I)),
    ("date", "century", re.compile(r"\bcentur(y|ies)\b", re.I)),
)  # fmt: skip


def answer_detail(question: str, kind: str) -> tuple[str, str]:
    """The finer kind of a number or date question, and the counted noun of "how many X".
    Example: ("How many troops are in Russia?", "number") -> ("count", "troop")"""
    for of_kind, detail, pattern in DETAILS:
        found = pattern.search(question) if of_kind == kind else None
        if found:
            counted = stemmed_terms([found.group(1)])[0] if detail == "count" else []
            return detail, counted[0] if counted else ""
    return "", ""


Term = tuple[int, int, str]  # start, end, stem of a word that is not a stop word


@lru_cache(maxsize=50_000)
def terms_at(text: str) -> tuple[Term, ...]:
    """The terms of lexical.tokenize (BM25's), with where each sits in `text`, at a third of
    its cost: the chooser reads every candidate sentence of every question. Cached: questions
    in a chat return to the same articles, and their sentences need not be read again."""
    stop, stemmer = _stop_and_stemmer()
    found = []
    for m in _TERM.finditer(text):
        word = m.group().lower()
        if word not in stop:
            stem = _STEMS.get(word)
            if stem is None:
                stem = _STEMS[word] = stemmer.stemWord(IRREGULAR.get(word, word))
            found.append((m.start(), m.end(), stem))
    if len(_STEMS) > 200_000:  # bounded: a long-running chat sees ever new words
        _STEMS.clear()
    return tuple(found)


# Past forms a stemmer cannot join to their verb: "Who leads ...?" is answered by "led by".
# Forms that are also other words ("found", "left", "rose", "born") are left out.
IRREGULAR = {
    past: verb
    for verb, forms in (
        ("lead", "led"), ("win", "won"), ("pay", "paid"), ("sell", "sold"), ("buy", "bought"),
        ("build", "built"), ("begin", "began begun"), ("send", "sent"), ("spend", "spent"),
        ("hold", "held"), ("tell", "told"), ("say", "said"), ("fight", "fought"), ("bring", "brought"),
        ("write", "wrote written"), ("choose", "chose chosen"), ("go", "went gone"), ("come", "came"),
        ("become", "became"), ("give", "gave given"), ("take", "took taken"), ("make", "made"),
        ("know", "knew known"), ("grow", "grew grown"), ("draw", "drew drawn"), ("throw", "threw thrown"),
        ("fall", "fell fallen"), ("strike", "struck"), ("steal", "stole stolen"), ("speak", "spoke spoken"),
        ("break", "broke broken"), ("catch", "caught"), ("teach", "taught"), ("think", "thought"),
        ("seek", "sought"), ("meet", "met"), ("keep", "kept"), ("lose", "lost"), ("shoot", "shot"),
        ("drive", "drove driven"), ("ride", "rode ridden"), ("fly", "flew flown"), ("run", "ran"),
        ("stand", "stood"), ("understand", "understood"), ("withdraw", "withdrew withdrawn"),
        ("sing", "sang sung"), ("sink", "sank sunk"), ("swim", "swam"), ("freeze", "froze frozen"),
        ("hide", "hid hidden"), ("wear", "wore worn"), ("forbid", "forbade forbidden"),
    )
    for past in forms.split()
}  # fmt: skip


def stemmed_terms(texts: Sequence[str]) -> list[list[str]]:
    """Like lexical.tokenize. Example: ["Who leads the delegation?"] -> [["lead", "deleg"]]"""
    return [[stem for _, _, stem in terms_at(text)] for text in texts]


_STEMS: dict[str, str] = {}


@lru_cache(maxsize=1)
def _stop_and_stemmer() -> tuple[frozenset[str], Any]:
    import Stemmer

    return frozenset(stopwords()), Stemmer.Stemmer("english")


def echoed(view: QuestionView, phrase: str) -> bool:
    """True when every word of the phrase is already in the question (not a new fact)."""
    words = [w.lower() for w in _WORD.findall(phrase)]
    return bool(words) and all(w in view.words or w in STOP_WORDS for w in words)
