"""Follow-up questions without a language model, kept on topic.

A short or referring follow-up ("When?", "What did he say about it?") is searched
together with the key terms of the previous turn, and the articles that turn cited are
preferred. Context drifts when it is carried too far, so it is carried only:
- from the previous turn, and only when that turn was answered (none after a refusal);
- when the question does not name its own subject: a proper noun or a topic word (a word
  of a noun phrase: "the bakery chain") that neither the previous question nor the
  articles it cited mention starts a new topic,
  unless a pronoun or an opener ("and ...", "what about ...") ties it back;
- when the expanded search is not weaker than the question alone (the engine runs both
  and compares them with `weaker`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.index.lexical import tokenize

_TERM = re.compile(r"[A-Za-z0-9][\w'-]*")
# Words that point back at an earlier turn. A possessive "its" usually points inside the
# question itself ("Why is the bakery closing its shops?"), so it alone does not tie a
# question to the previous turn when the question names a new subject.
TYING = frozenset(
    "he him his she her hers they them their theirs it this that these those there then such".split()
)
REFERRING = TYING | {"its"}
OPENERS = ("and ", "but ", "also ", "what about", "how about", "what else", "how so", "so ")
STOP = REFERRING | frozenset(
    "a an the of to in on at for by with from about as is are was were be been being do does did has "
    "have had what who whom whose which when where why how and or but not no any some say said says "
    "tell me us more else also other there than then will would can could should may might i you we "
    "one many much new according happen happened".split()
)
DETERMINERS = frozenset("the a an this that these those its their his her our your".split())
MAX_CARRIED_TERMS = 8
Mentions = Callable[[str], bool]  # does the previous turn's cited text mention this word?


@dataclass(frozen=True, slots=True)
class Turn:
    """One earlier exchange: what was asked, what was searched, which articles were cited."""

    question: str
    query: str = ""
    article_ids: tuple[str, ...] = ()
    answered: bool = True  # False after "the articles don't say": nothing is carried from it


def content_terms(text: str) -> list[str]:
    """Words that carry the topic. Example: "What did NATO say about it?" -> ["NATO"]"""
    seen: dict[str, str] = {}
    for word in _TERM.findall(text):
        key = word.lower()
        if key not in STOP and len(key) > 1 and key not in seen:
            seen[key] = word
    return list(seen.values())


def words_of(question: str) -> set[str]:
    return set(re.findall(r"[a-z']+", question.lower()))


def is_follow_up(question: str) -> bool:
    """True for a question that leans on earlier turns: referring words, an opener, or very short."""
    lowered = question.lower().strip()
    return (
        bool(words_of(question) & REFERRING)
        or lowered.startswith(OPENERS)
        or len(content_terms(question)) <= 2
    )


def ties_back(question: str) -> bool:
    """A pronoun or an opener: the question continues the previous turn even if it names
    something new ("What about Pyongyang?", "What did NATO say about it?")."""
    return bool(words_of(question) & TYING) or question.lower().strip().startswith(OPENERS)


def refers_to_previous(question: str, subject: str, checked: bool) -> bool:
    """Does a question that names a new subject still lean on the previous turn? Without the
    cited articles to check against, any pronoun or opener says so. With them, the new word
    is known to be foreign to the previous topic, so only a pronoun *before* it ("What did
    they say about Pyongyang?") or a bare opener ("What about Pyongyang?") ties back; in
    "And the bakery chain, who runs it now?" the "it" points at the bakery chain itself."""
    if not checked:
        return ties_back(question)
    before = words_of(question[: question.find(subject)])
    bare_opener = question.lower().strip().startswith(OPENERS) and len(content_terms(question)) <= 2
    return bool(before & TYING) or bare_opener


def new_subject(question: str, previous: Turn, mentions: Mentions | None = None) -> str | None:
    """The first word of the question that names a subject the previous turn never touched:
    not in its question or query, nor (when `mentions` can tell) in the articles it cited.
    Without `mentions`, only proper nouns count, since common words cannot be checked. A
    common word counts only inside a noun phrase ("the bakery chain"): a verb the cited
    article happens not to use ("Was anyone killed?" after a wildfire) names no subject."""
    before = {t.lower() for t in content_terms(f"{previous.question} {previous.query}")}
    nouns = noun_phrase_words(question)
    for i, term in enumerate(content_terms(question)):
        proper = term[0].isupper() and (i > 0 or question.lstrip().index(term) > 0) or term.isupper()
        if term.lower() in before or not (proper or (mentions and term.lower() in nouns)):
            continue
        if not (mentions and mentions(term)):
            return term
    return None


def noun_phrase_words(question: str) -> set[str]:
    """Lower-cased words that follow a determiner, up to the next stop word: "When was the
    bakery chain founded?" -> {"bakery", "chain", "founded"}; "Was anyone killed?" -> set()."""
    found: set[str] = set()
    inside = False
    for word in (w.lower() for w in _TERM.findall(question)):
        if word in DETERMINERS:
            inside = True
        elif word in STOP:
            inside = False
        elif inside:
            found.add(word)
    return found


def contextual_query(question: str, history: Sequence[Turn], mentions: Mentions | None = None) -> str:
    """The query to search: the question, plus the previous turn's terms for a follow-up."""
    previous = history[-1] if history else None
    if previous is None or not previous.answered or not is_follow_up(question):
        return question
    subject = new_subject(question, previous, mentions)
    if subject and not refers_to_previous(question, subject, mentions is not None):
        return question
    have = {t.lower() for t in content_terms(question)}
    carried = [t for t in content_terms(previous.query or previous.question) if t.lower() not in have]
    carried = carried[:MAX_CARRIED_TERMS]
    return f"{question} {' '.join(carried)}".strip() if carried else question


def cited_articles(history: Sequence[Turn]) -> set[str]:
    """The articles the previous turn cited, if it was answered: a follow-up prefers them."""
    return set(history[-1].article_ids) if history and history[-1].answered else set()


def weaker(expanded: Sequence[float], alone: Sequence[float]) -> bool:
    """Is the expanded search weaker than the question alone? Each side gives, per sentence it
    found, the share of the question's own words the sentence holds. Weaker: its best sentence
    holds fewer of them, i.e. the carried terms pulled the search away from what was asked.
    A tie keeps the context (a bare "When?" holds no words of its own on either side)."""
    return max(expanded, default=0.0) < max(alone, default=0.0)


def mentioned_in(texts: Sequence[str]) -> Mentions:
    """A test of whether a word (stemmed as BM25 stems it) occurs in any of the texts.
    The texts are read on the first test only: most follow-ups never need one."""
    vocabulary: set[str] = set()
    read = False

    def mentions(term: str) -> bool:
        nonlocal read
        if not read:
            vocabulary.update(w for words in (tokenize(texts) if texts else []) for w in words)
            read = True
        return all(s in vocabulary for s in tokenize([term])[0])  # a BM25 stop word names no subject

    return mentions


def own_coverage(question: str, sentences: Sequence[str]) -> list[float]:
    """Per sentence, the share of the question's own (stemmed) words it holds."""
    own = set(tokenize([question])[0])
    if not own or not sentences:
        return [0.0] * len(sentences)
    return [len(own & set(words)) / len(own) for words in tokenize(sentences)]
