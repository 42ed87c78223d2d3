"""One small reader per article format: .txt, .md, .json, .jsonl, .html (READERS, SUPPORTED).

Readers turn already-decoded file text into Articles and Problems; walking folders is
walk.py's, decoding bytes and de-duplication are ingest.py's. SUPPORTED, the extensions
qa reads, is the one list that indexing, uploads and their messages use.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from qa import jsonl

from .articles import Article, Problem, content_id, normalise_date

ReaderOutput = Iterator[Article | Problem]

# The header of the news dumps we ship: " date 2024-10-29 International".
_TXT_HEADER = re.compile(r"^\s*date\s+(\S+)\s*(.*?)\s*$", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n?", re.DOTALL)
_MD_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
FIELDS = ("title", "text", "date", "section", "source", "url")
# Longest value kept of each metadata field (characters); longer ones are cut, with a warning.
FIELD_LIMITS = {"id": 500, "title": 1_000, "date": 100, "section": 200, "source": 200, "url": 2_000}
MAX_FRONT_MATTER = 16_384  # characters of YAML; a real header is a few hundred
MAX_YAML_ALIASES = 10  # "*name" references: an alias bomb needs thousands of expansions
MAX_YAML_DEPTH = 16


def build_article(fields: dict[str, Any], default_id: str, path: str, line: int | None) -> ReaderOutput:
    """Validate one record's fields and yield the Article plus any warnings."""
    if isinstance(fields.get("text"), dict | list):
        yield Problem(path, "text is a list or an object, not a string; skipped", line)
        return
    fields, notes = capped_fields(fields)
    for note in notes:
        yield Problem(path, note, line, "warning")
    text = str(fields.get("text") or "")
    title = str(fields.get("title") or "").strip()
    if not text.strip():
        yield Problem(path, "empty text: the article has no body to index", line)
        return
    date = None
    try:
        date = normalise_date(fields.get("date"))
    except ValueError as ex:
        yield Problem(path, f"{ex}; kept the article without a date", line, "warning")
    given = "" if fields.get("id") is None else str(fields.get("id")).strip()
    article_id = given or default_id  # a blank id (" ") is no id: it would name no article
    where = f"{path}:{line}" if line else path
    yield Article(
        id=article_id,
        title=title or _first_words(text),
        text=text,
        date=date,
        section=_clean(fields.get("section")),
        source=_clean(fields.get("source")),
        url=_clean(fields.get("url")),
        path=where,
    )


def capped_fields(fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The fields with every metadata value capped (see capped), and a note per change."""
    kept, notes = dict(fields), []
    for key, limit in FIELD_LIMITS.items():
        kept[key], note = capped(key, fields.get(key), limit)
        notes += [note] if note else []
    return kept, notes


def capped(key: str, value: object, limit: int) -> tuple[object, str | None]:
    """A metadata value as kept: a scalar of at most `limit` characters, with a note when changed."""
    if value is None or isinstance(value, date | bool | int | float):
        return value, None
    if not isinstance(value, str):
        return None, f"{key} is a {type(value).__name__}, not text; ignored"
    if len(value) > limit and key == "url":  # a cut address leads to another page, or none
        return None, f"url is {len(value):,} characters (the limit is {limit:,}); ignored"
    if len(value) > limit:
        return value[:limit], f"{key} is {len(value):,} characters; kept the first {limit:,}"
    return value, None


def front_matter(yaml_text: str) -> object:
    """Parse a YAML header, refusing what could blow up: ValueError says why.

    safe_load shares an aliased node instead of copying it, but anything that walks the
    result (str(), json) expands every alias: 373 bytes of nested aliases grew past 11 GB.
    So aliases and nesting are counted on the event stream, before anything is built.
    """
    import yaml

    if len(yaml_text) > MAX_FRONT_MATTER:
        raise ValueError(f"front matter is {len(yaml_text):,} characters; the limit is {MAX_FRONT_MATTER:,}")
    aliases = depth = 0
    for event in yaml.parse(yaml_text, Loader=yaml.SafeLoader):
        aliases += isinstance(event, yaml.AliasEvent)
        depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)
        if aliases > MAX_YAML_ALIASES:
            raise ValueError(
                f"front matter uses more than {MAX_YAML_ALIASES} YAML aliases (*name); write the values out"
            )
        if depth > MAX_YAML_DEPTH:
            raise ValueError(f"front matter nests deeper than {MAX_YAML_DEPTH} levels")
    return yaml.safe_load(yaml_text)


def read_txt(raw: str, path: str, default_id: str) -> ReaderOutput:
    """Header line (optional), blank line, title line, then paragraphs."""
    lines = raw.splitlines(keepends=True)
    fields: dict[str, Any] = {}
    header = _TXT_HEADER.match(lines[0]) if lines else None
    if header:
        fields["date"], fields["section"] = header.group(1), header.group(2) or None
        lines = lines[1:]
    while lines and not lines[0].strip():
        lines = lines[1:]
    if lines:
        fields["title"] = lines[0].strip()
        fields["text"] = "".join(lines[1:]).strip("\r\n")
    if fields.get("title") and not str(fields.get("text", "")).strip():
        fields["text"] = fields["title"]  # a one-line article is its own body
    yield from build_article(fields, default_id, path, None)


def read_md(raw: str, path: str, default_id: str) -> ReaderOutput:
    """Optional YAML front matter (title, date, section, source, url), then Markdown."""
    fields: dict[str, Any] = {}
    body = raw
    match = _FRONT_MATTER.match(raw)
    if match:
        import yaml

        try:
            meta = front_matter(match.group(1)) or {}
        except ValueError as ex:
            yield Problem(path, f"{ex}; fix or remove the front matter")
            return
        except yaml.YAMLError as ex:
            yield Problem(path, f"front matter is not valid YAML ({str(ex)[:300]}); fix or remove it")
            return
        if isinstance(meta, dict):
            fields.update({k: meta[k] for k in (*FIELDS, "id") if k in meta})
        body = raw[match.end() :]
    body = body.strip("\r\n")
    if not fields.get("title"):
        first, _, rest = body.partition("\n")
        heading = _MD_HEADING.match(first)
        if heading:
            fields["title"], body = heading.group(1), rest.strip("\r\n")
    fields["text"] = body
    yield from build_article(fields, default_id, path, None)


def record_fields(record: dict[str, Any]) -> dict[str, Any]:
    """Map a project record or a BEIR corpus record onto our field names."""
    fields = {k: record.get(k) for k in FIELDS}
    fields["id"] = record.get("id", record.get("_id"))
    meta = record.get("metadata")
    if isinstance(meta, dict):
        for key in ("date", "section", "source", "url"):
            fields[key] = fields[key] or meta.get(key)
    return fields


def is_question_record(record: object) -> bool:
    """A line of a question or conversation set (seeds/ keeps them beside the articles)."""
    if not isinstance(record, dict) or "text" in record:
        return False
    return "question" in record or "turns" in record  # a question set or a conversation set


def read_jsonl(raw: str, path: str, default_id: str) -> ReaderOutput:
    for number, line in jsonl.lines(raw):
        if not line.strip():
            continue
        try:
            record = jsonl.loads(line)
        except json.JSONDecodeError as ex:
            yield Problem(path, f"malformed JSON ({ex.msg} at column {ex.colno}); line skipped", number)
            continue
        if is_question_record(record):
            return  # a question set, not articles
        if not isinstance(record, dict):
            yield Problem(path, "expected a JSON object with title and text; line skipped", number)
            continue
        fields = record_fields(record)
        fallback = content_id(str(fields.get("title") or ""), str(fields.get("text") or ""))
        yield from build_article(fields, fallback, path, number)


def read_json(raw: str, path: str, default_id: str) -> ReaderOutput:
    """A single record, or a list of records."""
    try:
        data = jsonl.loads(raw)
    except json.JSONDecodeError as ex:
        yield Problem(path, f"malformed JSON ({ex.msg})", ex.lineno)
        return
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict) or is_question_record(record):
            where = number if len(records) > 1 else None
            yield Problem(path, "expected an object with title and text", where)
            continue
        fields = record_fields(record)
        one = len(records) == 1
        fallback = default_id if one else content_id(str(fields.get("title")), str(fields.get("text")))
        yield from build_article(fields, fallback, path, None if one else number)


def read_html(raw: str, path: str, default_id: str) -> ReaderOutput:
    """Main text, title and date of a web page, found by trafilatura."""
    import trafilatura

    # Its "discarding data: None" for a page without text names no file; the Problem below does.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    doc = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False)
    if doc is None:
        yield Problem(path, "no article text found in the HTML page")
        return
    meta = doc if isinstance(doc, dict) else doc.as_dict()
    categories = meta.get("categories") or []
    title, text = (meta.get("title") or "").strip(), meta.get("text") or ""
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and title and lines[0].strip() == title:
        lines = lines[1:]  # trafilatura repeats the <h1> as the first line of the text
    fields = {
        "title": title,
        "text": "\n\n".join(lines),  # one paragraph per line, made explicit for the splitter
        "date": meta.get("date"),
        "section": categories[0] if categories else None,
        "source": meta.get("sitename"),
        "url": meta.get("url"),
    }
    yield from build_article(fields, default_id, path, None)


READERS = {
    ".txt": read_txt,
    ".md": read_md,
    ".markdown": read_md,
    ".json": read_json,
    ".jsonl": read_jsonl,
    ".html": read_html,
    ".htm": read_html,
}
SUPPORTED = tuple(READERS)  # the file extensions qa reads (indexing, uploads, messages), in one place


def _clean(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _first_words(text: str, limit: int = 80) -> str:
    first = text.strip().split("\n", 1)[0]
    return first if len(first) <= limit else first[:limit].rsplit(" ", 1)[0] + "..."
