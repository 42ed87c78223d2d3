"""Data flows one way: each module imports only from its own layer or lower ones, with no cycle.

Read from the source (ast), every import form counts: `import qa.x`, `from qa import x`,
`from . import x`, `from .x import y`, imports inside functions and `if TYPE_CHECKING:` blocks,
`__import__`/`import_module` with a literal name, and the benchmarks' `import stand_in` (a
script's folder is on sys.path). qa/, app.py and benchmarks/ are covered. Layers, lowest first;
a module's layer is the entry naming it, else the longest "package." prefix that matches it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [
    ["qa.errors", "qa.config", "qa.terminal", "qa.jsonl", "qa.lifeline", "qa.layout"],
    ["qa.text."],  # articles, readers, walk, ingest, tokens, sentences, passages
    ["qa.encode."],  # embedder protocol, torch, onnx, numpy, ray backends, devices
    ["qa.index."],  # the folder: layout and locking, generations, segments, lexical, dense, vectors
    ["qa.search."],  # retrieve, dense stores, evidence, rank, answer, dates, conversation, engine
    ["qa.eval."],  # questions, evaluate, metrics, report, convert
    ["qa.views.", "qa.serve", "qa.chat.", "qa.cli."],  # the faces
    ["qa", "qa.__main__", "app"],  # the public API, `python -m qa`, the Gradio entry
    ["benchmarks.helpers"],  # what the scripts share (HELPERS)
    ["benchmarks.scripts"],  # every other benchmarks/ module
]
MAX_LAYERS = 10
HELPERS = {  # benchmarks/ modules the scripts share; a helper imports qa and other helpers only
    "bench", "dev_sets", "stand_in", "chooser_data", "confidence_data", "confidence_fit", "confidence_studies",
    "speed_indexing", "speed_query", "app_process",
}


def discover(root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for path in sorted((root / "qa").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    found["app"] = root / "app.py"
    for path in sorted((root / "benchmarks").glob("*.py")):
        found[f"benchmarks.{path.stem}"] = path
    return found


def local(dotted: str, here: str, known: set[str]) -> str | None:
    if here.startswith("benchmarks.") and f"benchmarks.{dotted}" in known:
        return f"benchmarks.{dotted}"
    parts = dotted.split(".")
    return next((".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in known), None)


def imports(path: Path, here: str, known: set[str]) -> set[str]:
    """The known modules one file names in any import form, anywhere in the file."""
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {local(a.name, here, known) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{up}.{node.module}" if node.module else up
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else local(base, here, known))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                found.add(local(node.args[0].value, here, known))
    return {m for m in found if m and m != here}


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = discover(root)
    return {m: imports(p, m, set(files)) for m, p in files.items()}


def group(module: str) -> str:
    """A node of the layer graph: a stage package, a flat qa module, app, or one of the two
    benchmarks groups (the scripts; the helpers they share)."""
    if module.startswith("benchmarks."):
        return "benchmarks.helpers" if module.split(".")[1] in HELPERS else "benchmarks.scripts"
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else module


def layer(module: str) -> int | None:
    best = None
    for i, names in enumerate(LAYERS):
        for name in names:
            if name == module or name == module + ".":  # a package's __init__ is in its layer
                return i
            if name.endswith(".") and module.startswith(name) and (best is None or len(name) > best[0]):
                best = (len(name), i)
    return best[1] if best else None


def cycle_in(edges: dict[str, set[str]]) -> list[str]:
    """One import cycle, if there is any (depth-first search for a back edge)."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return []

    return next((c for n in sorted(edges) if n not in state and (c := visit(n))), [])


def longest(edges: dict[str, set[str]]) -> list[str]:
    memo: dict[str, list[str]] = {}

    def chain(node: str) -> list[str]:
        if node not in memo:
            memo[node] = [node, *max((chain(n) for n in sorted(edges.get(node, ()))), key=len, default=[])]
        return memo[node]

    return max((chain(n) for n in sorted(edges)), key=len, default=[])


GRAPH = graph()
SCRIPTS = {m for m in GRAPH if group(m) == "benchmarks.scripts"}
LIBRARY = {m: targets for m, targets in GRAPH.items() if not m.startswith("benchmarks.")}


def layer_of(module: str) -> int | None:
    return layer(group(module) if module.startswith("benchmarks.") else module)


def upward(module: str, targets: set[str]) -> list[str]:
    """The targets `module` imports from a higher layer than its own, or from no layer."""
    here = layer_of(module)
    return [t for t in sorted(targets) if here is None or (there := layer_of(t)) is None or there > here]


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_only_its_own_layer_or_lower(module):
    assert layer_of(module) is not None, f"{module} is in no layer: add it to LAYERS in tests/test_layering.py"
    assert not (bad := upward(module, GRAPH[module])), f"{module} (layer {layer_of(module)}) imports {bad}"


def test_the_checks_catch_an_upward_import_and_a_cycle():
    """The checks themselves, on made-up arrows: each kind of violation is named."""
    assert upward("qa.encode.embedder", {"qa.search.engine", "qa.text.tokens"}) == ["qa.search.engine"]
    assert upward("qa.layout", {"qa.text.articles", "qa.errors"}) == ["qa.text.articles"]
    assert upward("benchmarks.bench", {"benchmarks.speed"}) == ["benchmarks.speed"]  # a helper on a script
    assert upward("qa.search.engine", {"qa.nowhere"}) == ["qa.nowhere"]
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert not cycle_in({"a": {"b", "c"}, "b": {"c"}, "c": set()})


def test_no_import_cycle_in_qa_and_app():
    assert not (found := cycle_in(LIBRARY)), "import cycle: " + " -> ".join(found)


def test_no_import_cycle_in_benchmarks():
    found = cycle_in({m: targets for m, targets in GRAPH.items() if m.startswith("benchmarks.")})
    assert not found, "import cycle: " + " -> ".join(found)


def test_at_most_ten_layers_of_packages():
    """A helper importing a script is the per-module test's failure, not a second layer of scripts."""
    packages: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        wanted = {group(t) for t in targets if not (group(module) == "benchmarks.helpers" and t in SCRIPTS)}
        packages.setdefault(group(module), set()).update(wanted - {group(module)})
    assert not (found := cycle_in(packages)), "packages import each other: " + " -> ".join(found)
    assert len(chain := longest(packages)) <= MAX_LAYERS, " -> ".join(chain)


def test_benchmark_scripts_import_no_other_script():
    for script in sorted(SCRIPTS):
        assert not (GRAPH[script] & SCRIPTS), f"{script} imports {sorted(GRAPH[script] & SCRIPTS)}: share a helper"


def test_every_import_form_is_seen(tmp_path):
    """The parser itself: each form names its module, so an upward import cannot hide in it."""
    (tmp_path / "qa" / "deep").mkdir(parents=True)
    for name in ("__init__", "a", "b", "c", "d", "e", "f", "deep/__init__", "deep/g"):
        (tmp_path / "qa" / f"{name}.py").write_text("")
    (tmp_path / "qa" / "deep" / "h.py").write_text(
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "import qa.a\n"
        "from .. import b\n"
        "from ..c import x\n"
        "from . import g\n"
        "if TYPE_CHECKING:\n    from qa.d import y\n"
        "def f():\n    from qa import e\n    return __import__('qa.f')\n"
    )
    (tmp_path / "app.py").write_text("")
    (tmp_path / "benchmarks").mkdir()
    found = graph(tmp_path)["qa.deep.h"]
    assert found == {"qa.a", "qa.b", "qa.c", "qa.d", "qa.e", "qa.f", "qa.deep.g"}
