"""jsonl.read: a bad line is a BadLine that names its number, and still a json.JSONDecodeError."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from qa import jsonl


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bad_line_names_its_number(tmp_path: Path) -> None:
    path = _file(tmp_path, '{"a": 1}\n\n{"a": 2\n{"a": 3}\n')  # the blank line still counts
    rows = jsonl.read(path)
    assert next(rows) == {"a": 1}
    with pytest.raises(jsonl.BadLine) as caught:
        next(rows)
    assert caught.value.number == 3
    assert caught.value.msg.startswith("Expecting")


def test_old_handlers_of_json_errors_still_catch_it(tmp_path: Path) -> None:
    path = _file(tmp_path, "not json\n")
    try:
        list(jsonl.read(path))
    except json.JSONDecodeError as ex:
        assert isinstance(ex, jsonl.BadLine) and ex.number == 1
    else:
        pytest.fail("a bad line was read")


def test_a_torn_last_line_is_skipped_unless_asked_not_to(tmp_path: Path) -> None:
    path = _file(tmp_path, '{"a": 1}\n{"a": 2}\n{"a": ')
    assert list(jsonl.read(path)) == [{"a": 1}, {"a": 2}]
    with pytest.raises(jsonl.BadLine) as caught:
        list(jsonl.read(path, skip_torn_tail=False))
    assert caught.value.number == 3


def test_a_last_line_without_newline_that_is_json_is_read_either_way(tmp_path: Path) -> None:
    path = _file(tmp_path, '{"a": 1}\n{"a": 2}')
    assert list(jsonl.read(path)) == list(jsonl.read(path, skip_torn_tail=False)) == [{"a": 1}, {"a": 2}]


def test_a_bad_line_survives_pickling(tmp_path: Path) -> None:
    with pytest.raises(jsonl.BadLine) as caught:
        list(jsonl.read(_file(tmp_path, "{}\n[1,\n")))
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (type(copy), copy.number, copy.msg, copy.pos) == (jsonl.BadLine, 2, caught.value.msg, caught.value.pos)
