"""Data flows one way: a module may import only from earlier pipeline stages."""

import ast
from pathlib import Path

import pytest

STAGES = [
    {"errors", "config", "metrics", "terminal", "jsonl", "layout", "lifeline"},
    {"articles", "tokens", "devices"},
    {"readers"},
    {"walk", "ingest"},
    {"passages"},
    {"minilm"},
    {"embed", "onnx_embed", "lexical", "postings", "store", "records", "dense"},
    {"vectors", "ray_embed", "load", "sources", "segments", "damage"},
    {"index", "previous", "maintenance"},
    {"retrieve", "build", "milvus_store"},
    {"conversation", "dates", "answer_type", "phrases"},
    {"evidence"},
    {"rank", "choose"},
    {"answer", "confidence", "span"},
    {"engine"},
    {
        "evaluate",
        "report",
        "convert",
        "serve",
        "views",
        "views_reply",
        "views_page",
        "library",
        "feedback",
        "uploads",
        "upload_report",
        "chat_state",
        "chat",
        "cli_options",
        "cli_eval",
        "cli",
        "__init__",
        "__main__",
    },
]
RANK = {name: i for i, names in enumerate(STAGES) for name in names}
PACKAGE = Path(__file__).parent.parent / "qa"


def qa_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names.add((node.module or "").split(".")[0] or "__init__")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("qa."):
            names.add(node.module.split(".")[1])
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.stem)
def test_imports_only_earlier_stages(path):
    assert path.stem in RANK, f"add qa/{path.name} to a stage in tests/test_layering.py"
    for name in qa_imports(path) - {"__init__"}:
        assert RANK[name] <= RANK[path.stem], (
            f"{path.stem} (stage {RANK[path.stem]}) imports later stage {name}"
        )
