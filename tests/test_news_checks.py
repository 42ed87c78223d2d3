"""benchmarks/news_checks.py: a run of some sets keeps the others' results (pure merge logic)."""

from __future__ import annotations

import sys
from pathlib import Path

# appended, not prepended: benchmarks/load.py and the like must not shadow modules of the same name
sys.path.append(str(Path(__file__).resolve().parents[1] / "benchmarks"))

import news_checks as nc  # noqa: E402

TORCH = {"commit": "d6022d6", "backend": "torch"}
INT8 = {"commit": "abc1234", "backend": "onnx-int8"}


def test_a_partial_run_keeps_the_other_sets_in_fixed_order() -> None:
    saved = {
        "dated": {"scifact": {**TORCH, "q": 1}, "covid": {**TORCH, "q": 2}},
        "paraphrase": {"SciFact claims": {**TORCH}, "paraphrase-seeds": {**TORCH}},
    }
    ran = {"dated": {"covid": {**INT8, "q": 3}}, "paraphrase": {"paraphrase-seeds": {**INT8}}}
    results = nc.merged(saved, ran)
    assert list(results["dated"]) == ["covid", "scifact"]
    assert results["dated"]["covid"] == {**INT8, "q": 3}
    assert results["dated"]["scifact"] == {**TORCH, "q": 1}
    assert list(results["paraphrase"]) == ["paraphrase-seeds", "SciFact claims"]
    assert results["paraphrase"]["paraphrase-seeds"]["backend"] == "onnx-int8"


def test_nothing_saved_gives_what_ran() -> None:
    ran = {"dated": {"squad1": INT8}, "paraphrase": {}}
    assert nc.merged({}, ran) == {"dated": {"squad1": INT8}, "paraphrase": {}}


def test_kept_results_say_where_they_were_measured() -> None:
    assert nc.measured(INT8, INT8) == ""
    assert nc.measured(TORCH, INT8) == " (measured at `d6022d6` on torch)"
    assert nc.measured({"commit": "d6022d6"}, INT8) == " (measured at `d6022d6`)"
    assert nc.measured({}, INT8) == " (measured at an earlier commit)"


def test_tables_the_docs_show_but_no_result_has_are_found() -> None:
    section = "**SQuAD v1.1 dev**, 150 questions\n\n**COVID-QA**, 150\n\n| paraphrase-covid | 12 |\n"
    results = {"dated": {"covid": INT8}, "paraphrase": {}}
    assert nc.lost(section, results) == ["squad1", "paraphrase-covid"]
    full = {"dated": {"covid": INT8, "squad1": INT8}, "paraphrase": {"paraphrase-covid": INT8}}
    assert nc.lost(section, full) == []
