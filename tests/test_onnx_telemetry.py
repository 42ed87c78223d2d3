"""onnxruntime keeps a telemetry queue in the user's home unless told not to; qa runs offline
and writes only where it is told to, so loading a session through qa leaves the home untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

ROOT = Path(__file__).resolve().parents[1]
SESSION = """
import sys
from qa.encode.onnx_export import import_onnxruntime
ort = import_onnxruntime()
ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"]).run(None, {"x": [[1.0]]})
"""


def tiny_model(path: Path) -> Path:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "tiny", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_an_onnx_session_writes_nothing_into_the_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT))
    model = tiny_model(tmp_path / "tiny.onnx")
    subprocess.run([sys.executable, "-c", SESSION, str(model)], env=env, check=True, timeout=120)
    assert [str(p.relative_to(home)) for p in home.rglob("*")] == []
