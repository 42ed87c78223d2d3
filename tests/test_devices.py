"""`--device auto|cpu|cuda`: the choice logic, tested on a CPU-only machine with the GPU faked."""

from __future__ import annotations

import sys
import types

import pytest
from click.testing import CliRunner

from qa.cli.main import cli
from qa.config import DEFAULT_BACKEND
from qa.encode import devices
from qa.encode.backends import default_embedder
from qa.encode.embedder import backend_of
from qa.encode.ray_embed import RayEmbedder, init_address
from qa.encode.torch_embed import SentenceTransformerEmbedder
from qa.errors import IndexMismatchError, QAError
from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex
from qa.search.engine import Engine

from .conftest import HashEmbedder


def test_auto_takes_the_gpu_only_when_there_is_one():
    assert devices.gpu_device("auto", False, "no GPU") == "cpu"
    assert devices.gpu_device("auto", True, "no GPU") == "cuda"
    assert devices.gpu_device("cpu", True, "no GPU") == "cpu"
    assert devices.gpu_device("cuda", True, "no GPU") == "cuda"
    with pytest.raises(QAError, match=r"--device cuda, but torch sees no GPU; use --device cpu"):
        devices.gpu_device("cuda", False, "torch sees no GPU")
    with pytest.raises(QAError, match="unknown device 'tpu'; choose one of auto, cpu, cuda"):
        devices.gpu_device("tpu", True, "")


def test_gpu_vectors_are_the_backends_own_only_when_they_agree_with_the_cpu():
    never = lambda: pytest.fail("the CPU needs no probe")  # noqa: E731
    assert devices.settle("auto", "cpu", never) == ("cpu", None)
    assert devices.settle("auto", "cuda", lambda: 0.99995) == ("cuda", 0.99995)
    assert devices.settle("auto", "cuda", lambda: 0.998) == ("cpu", None)  # auto falls back
    assert devices.settle("cuda", "cuda", lambda: 0.998) == ("cuda", 0.998)  # cuda insists...
    assert devices.recorded_backend("onnx-int8", "cuda", 0.998) == "onnx-int8@cuda"  # ...kept apart
    assert devices.recorded_backend("onnx-int8", "cuda", 0.9991) == "onnx-int8"
    assert devices.recorded_backend("torch", "cpu", None) == "torch"
    assert devices.split_backend("onnx-int8@cuda") == ("onnx-int8", "cuda")
    assert devices.split_backend("torch") == ("torch", "cpu")


def test_onnx_providers_and_ray_gpus():
    assert devices.onnx_providers("cuda") == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert devices.onnx_providers("cpu") == ["CPUExecutionProvider"]
    assert devices.ray_gpus("auto", {"CPU": 8, "GPU": 2}) == 1.0
    assert devices.ray_gpus("auto", {"CPU": 8}) == 0.0
    assert devices.ray_gpus("cpu", {"CPU": 8, "GPU": 2}) == 0.0
    with pytest.raises(QAError, match="Ray cluster has no GPU"):
        devices.ray_gpus("cuda", {"CPU": 8})


def test_probe_agreement_is_the_worst_row():
    class Shifted(HashEmbedder):
        def embed_passages(self, texts, spans, progress=None):  # type: ignore[no-untyped-def]
            vectors, sentences = super().embed_passages(texts, spans)
            sentences[0] = sentences[1]  # one sentence vector off
            return vectors, sentences

    assert devices.probe_agreement(HashEmbedder(), HashEmbedder()) == pytest.approx(1.0)
    assert devices.probe_agreement(Shifted(), HashEmbedder()) < 0.99


@pytest.fixture
def fake_cuda(monkeypatch):
    """torch claims a GPU; the probe says how close its vectors came to the CPU's."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    found = {"agreement": 0.99999}
    monkeypatch.setattr(devices, "probe_agreement", lambda gpu, cpu: found["agreement"])
    return found


def test_torch_embedder_settles_its_device(fake_cuda, monkeypatch):
    assert SentenceTransformerEmbedder().device == "cpu"  # the library's default: questions on the CPU
    on_gpu = SentenceTransformerEmbedder(device="auto")
    assert (on_gpu.device, backend_of(on_gpu)) == ("cuda", "torch")
    fake_cuda["agreement"] = 0.99
    assert SentenceTransformerEmbedder(device="auto").device == "cpu"
    insisted = SentenceTransformerEmbedder(device="cuda")
    assert (insisted.device, backend_of(insisted)) == ("cuda", "torch@cuda")
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert SentenceTransformerEmbedder(device="auto").device == "cpu"
    with pytest.raises(QAError, match="torch sees no GPU"):
        _ = SentenceTransformerEmbedder(device="cuda").device


def test_onnx_embedder_uses_the_cuda_provider_when_installed(monkeypatch, fake_cuda):
    ort = types.SimpleNamespace(
        get_available_providers=lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    monkeypatch.setitem(sys.modules, "onnxruntime", ort)
    from qa.encode.onnx_embed import OnnxEmbedder

    on_gpu = OnnxEmbedder("onnx-int8", device="auto")
    assert (on_gpu.device, on_gpu.workers, backend_of(on_gpu)) == ("cuda", 1, "onnx-int8")
    ort.get_available_providers = lambda: ["CPUExecutionProvider"]
    assert OnnxEmbedder("onnx-int8", device="auto").device == "cpu"
    with pytest.raises(QAError, match="pip install onnxruntime-gpu"):
        _ = OnnxEmbedder("onnx-int8", device="cuda").device


def test_a_recorded_gpu_backend_is_encoded_on_that_gpu_and_kept_apart(tmp_path, articles_dir, settings):
    class GpuFake(HashEmbedder):
        device, agreement = "cuda", 0.99

    index_paths([articles_dir], tmp_path / "ix", embedder=GpuFake(), settings=settings)
    manifest = PassageIndex.load(tmp_path / "ix").manifest
    assert manifest["backend"] == "torch@cuda"
    assert manifest["device"] == {"name": "cuda", "min_cosine_to_cpu": 0.99}
    with pytest.raises(IndexMismatchError, match="backend torch@cuda"):
        Engine.from_index(tmp_path / "ix", embedder=HashEmbedder())
    questions = default_embedder("torch@cuda")
    assert isinstance(questions, SentenceTransformerEmbedder) and questions.requested_device == "cuda"
    again = index_paths([articles_dir], tmp_path / "ix", embedder=HashEmbedder(), settings=settings)
    assert again.report.embedded == again.report.passages  # a CPU run re-embeds, never mixes
    assert PassageIndex.load(tmp_path / "ix").manifest["device"] == {"name": "cpu"}


def test_cli_device_option(monkeypatch, tmp_path, articles_dir):
    chosen = []

    def fake_default(backend=DEFAULT_BACKEND, device=None):
        chosen.append((backend, device))
        return HashEmbedder()

    monkeypatch.setattr("qa.encode.backends.default_embedder", fake_default)
    ix = str(tmp_path / "ix")
    assert CliRunner().invoke(cli, ["index", str(articles_dir), "--index", ix]).exit_code == 0
    assert (
        CliRunner().invoke(cli, ["index", str(articles_dir), "--index", ix, "--device", "cpu"]).exit_code == 0
    )
    assert chosen == [(DEFAULT_BACKEND, "auto"), ("torch", "cpu")]  # the fake's index records torch
    bad = CliRunner().invoke(cli, ["index", str(articles_dir), "--index", ix, "--device", "tpu"])
    assert bad.exit_code == 2 and "cuda" in bad.output


def test_ray_local_never_joins_another_ray():
    assert init_address("local", {}) == "local"  # a new Ray, whatever cluster file is left over
    assert init_address("local", {"RAY_ADDRESS": "ray://head:10001"}) is None  # ray reads $RAY_ADDRESS
    assert init_address("ray://head:10001", {}) == "ray://head:10001"


class FakeRay:
    """Enough of ray for RayEmbedder._run: records what the actor pool asked for."""

    def __init__(self, resources):
        self.resources, self.asked = resources, {}
        self.data = types.SimpleNamespace(from_items=self.from_items)

    def cluster_resources(self):
        return self.resources

    def from_items(self, items, override_num_blocks):
        return types.SimpleNamespace(map_batches=self.map_batches)

    def map_batches(self, actor, **kwargs):
        self.asked = kwargs
        return types.SimpleNamespace(iter_batches=lambda **_: iter(()))


@pytest.mark.parametrize(
    ("resources", "device", "gpus", "actors"),
    [
        ({"CPU": 8, "GPU": 2}, "auto", 1.0, 2),
        ({"CPU": 8}, "auto", 0.0, 8),
        ({"CPU": 8, "GPU": 2}, "cpu", 0.0, 8),
    ],
)
def test_ray_actors_ask_for_a_gpu_when_the_cluster_has_them(resources, device, gpus, actors):
    ray = FakeRay(resources)
    RayEmbedder(SentenceTransformerEmbedder(), device=device)._run(ray, ["a text"], [[(0, 1)]], None)
    assert (ray.asked["num_gpus"], ray.asked["concurrency"]) == (gpus, actors)
    assert ray.asked["fn_constructor_kwargs"]["gpu"] is (gpus > 0)
    assert ray.asked["fn_constructor_kwargs"]["backend"] == "torch"
