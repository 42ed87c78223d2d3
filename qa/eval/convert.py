"""Turn public QA sets into the project's two files: articles.jsonl and questions.jsonl.

Reads SQuAD v1.1/v2.0 JSON (COVID-QA is SQuAD-shaped, with one paragraph per article
whose first line is the title) and BEIR folders (corpus.jsonl, queries.jsonl,
qrels/<split>.tsv). Gold stays answer text and article ids, never passage ids, so the
output does not depend on how qa later splits the articles. Does not index anything.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa import jsonl
from qa.errors import DatasetError

ARTICLES = "articles.jsonl"
QUESTIONS = "questions.jsonl"
Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Converted:
    """What a conversion wrote."""

    folder: str
    articles: int
    questions: int
    unanswerable: int
    skipped: int = 0  # records left out: empty text or question, repeated id


def slug(title: str, limit: int = 60) -> str:
    """A readable article id from a title. Example: "Super_Bowl_50" -> "super-bowl-50" """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if len(text) > limit:
        text = text[:limit].rsplit("-", 1)[0]
    return text or "article"


def unique_id(base: str, used: set[str]) -> str:
    """`base`, or `base-2`, `base-3`, ... when taken; the result is added to `used`."""
    found, n = base, 1
    while found in used:
        n += 1
        found = f"{base}-{n}"
    used.add(found)
    return found


def convert_squad(path: Path | str, out: Path | str) -> Converted:
    """SQuAD JSON -> one article per title (paragraphs joined by blank lines) + its questions.

    v2.0 `is_impossible` questions become `unanswerable`. Raises DatasetError when the
    file is not SQuAD-shaped.
    """
    path = Path(path)
    data = read_json(path)
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise DatasetError(f"{path} has no top-level 'data' list; expected SQuAD JSON (v1.1 or v2.0)")
    used: set[str] = set()
    articles: list[Record] = []
    questions: list[Record] = []
    try:
        for entry in entries:
            article, asked = squad_article(entry, used)
            articles.append(article)
            questions.extend(asked)
    except (KeyError, TypeError, AttributeError) as ex:
        raise DatasetError(
            f"{path} entry {len(articles) + 1} is not SQuAD-shaped (problem at {ex!s}); "
            "expected data[].paragraphs[].context and .qas[].id/question/answers"
        ) from None
    return write_set(out, articles, questions)


def squad_article(entry: Record, used: set[str]) -> tuple[Record, list[Record]]:
    """One SQuAD `data[]` entry -> the article record and its question records."""
    contexts = [p["context"].strip() for p in entry["paragraphs"]]
    title = str(entry.get("title") or "").replace("_", " ").strip()
    if not title:  # COVID-QA: the title is the first line of the (only) paragraph
        first, _, rest = contexts[0].partition("\n")
        title, contexts = first.strip(), [rest.strip(), *contexts[1:]]
    article_id = unique_id(slug(title), used)
    article = {"id": article_id, "title": title, "text": "\n\n".join(c for c in contexts if c)}
    asked = [squad_question(qa, article_id) for p in entry["paragraphs"] for qa in p["qas"]]
    return article, asked


def squad_question(qa: Record, article_id: str) -> Record:
    """One SQuAD question record; a v2.0 `is_impossible` one has no answers and no article."""
    record = {"id": str(qa["id"]), "question": qa["question"]}
    if qa.get("is_impossible"):
        return {**record, "answers": [], "article_ids": [], "unanswerable": True}
    answers = list(dict.fromkeys(a["text"] for a in qa.get("answers") or []))
    return {**record, "answers": answers, "article_ids": [article_id]}


def convert_beir(folder: Path | str, out: Path | str, split: str | None = None) -> Converted:
    """BEIR corpus + the queries of one qrels split -> articles + questions with graded qrels.

    Args:
        split: the qrels file to use (qrels/<split>.tsv); default "test", or the only one there.
    """
    folder = Path(folder)
    qrels = read_qrels(pick_split(folder, split))
    articles = list(beir_articles(folder / "corpus.jsonl"))
    known = {a["id"] for a in articles}
    questions = []
    for query in read_jsonl(folder / "queries.jsonl"):
        grades = qrels.get(str(query.get("_id")))
        if grades is not None and str(query.get("text") or "").strip():
            relevant = [doc for doc, grade in grades.items() if grade > 0 and doc in known]
            questions.append(
                {"id": str(query["_id"]), "question": query["text"], "article_ids": relevant, "qrels": grades}
            )
    return write_set(out, articles, questions, skipped=len(qrels) - len(questions))


def beir_articles(corpus: Path) -> Iterator[Record]:
    """Corpus records as article records (records with no text are left out)."""
    for doc in read_jsonl(corpus):
        if str(doc.get("text") or "").strip() and "_id" in doc:
            article = {"id": str(doc["_id"]), "title": doc.get("title") or "", "text": doc["text"]}
            meta = doc.get("metadata")
            meta = meta if isinstance(meta, dict) else {}
            article.update({k: meta[k] for k in ("date", "url", "source") if meta.get(k)})
            yield article


def pick_split(folder: Path, split: str | None) -> Path:
    """The qrels file of `split`, with the choices named when it is missing."""
    found = sorted((folder / "qrels").glob("*.tsv"))
    names = [f.stem for f in found]
    if not found:
        raise DatasetError(f"{folder} has no qrels/*.tsv; expected a BEIR folder (corpus, queries, qrels)")
    if split is None:
        split = "test" if "test" in names else names[0] if len(names) == 1 else None
    if split not in names:
        raise DatasetError(f"{folder} has no qrels split {split!r}; choose one of: {', '.join(names)}")
    return folder / "qrels" / f"{split}.tsv"


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels TSV (query-id, corpus-id, score; optional header) -> {query: {doc: grade}}."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in jsonl.lines(path.read_text(encoding="utf-8")):
        cells = line.split("\t") if "\t" in line else line.split()
        if not line.strip() or (number == 1 and cells[-1] == "score"):
            continue
        try:
            query, doc, grade = cells[0], cells[-2], int(cells[-1])
        except (IndexError, ValueError):
            raise DatasetError(
                f"{path}:{number}: expected 'query-id<TAB>corpus-id<TAB>score', got {line!r}"
            ) from None
        qrels.setdefault(query, {})[doc] = grade
    return qrels


def read_json(path: Path) -> Any:
    try:
        return jsonl.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as ex:
        raise DatasetError(f"cannot read {path} ({ex})") from None
    except json.JSONDecodeError as ex:
        raise DatasetError(f"{path} is not JSON ({ex.msg} at line {ex.lineno})") from None


def read_jsonl(path: Path) -> Iterator[Record]:
    """The objects of a BEIR JSON lines file (other values skipped); a bad line, even a torn
    last one, stops the conversion naming the file and the line."""
    if not path.is_file():
        raise DatasetError(f"{path} is missing; a BEIR folder holds corpus.jsonl and queries.jsonl")
    try:
        for record in jsonl.read(path, skip_torn_tail=False):
            if isinstance(record, dict):
                yield record
    except jsonl.BadLine as ex:
        raise DatasetError(f"{path}:{ex.number}: malformed JSON ({ex.msg})") from None


def write_set(
    out: Path | str, articles: Iterable[Record], questions: list[Record], skipped: int = 0
) -> Converted:
    """Write OUT/articles.jsonl and OUT/questions.jsonl (question ids made unique)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    articles = list(articles)
    seen: set[str] = set()
    kept = []
    for q in questions:
        if q["id"] not in seen and str(q["question"]).strip():
            seen.add(q["id"])
            kept.append(q)
    files = {folder / ARTICLES: articles, folder / QUESTIONS: kept}
    text = {path: "".join(map(jsonl.dumps_line, records)) for path, records in files.items()}
    others = [str(path) for path in files if path.exists() and _text(path) != text[path]]
    if others:  # a rerun writes the same bytes; anything else there is not ours to replace
        raise DatasetError(
            f"{' and '.join(others)} already exist with other content; give another --out, "
            "or delete them first if they are an earlier conversion"
        )
    for path, records in files.items():
        jsonl.write(path, records)
    unanswerable = sum(1 for q in kept if q.get("unanswerable"))
    return Converted(
        str(folder), len(articles), len(kept), unanswerable, skipped + len(questions) - len(kept)
    )


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
