"""The ONNX Runtime backends: exported from the packaged weights, recorded in the manifest."""

import importlib.util
import json
import re
import string
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from qa.cli.main import cli
from qa.encode.embedder import backend_of
from qa.encode.torch_embed import SentenceTransformerEmbedder
from qa.errors import IndexMismatchError, MissingDependencyError
from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex
from qa.search.engine import Engine
from qa.search.options import SearchOptions

from .conftest import ROOT, HashEmbedder

SENTENCES = [
    "Who leads the North Korean delegation to Russia?",
    "North Korean troops were sent to the Kursk region.",
    "The central bank raised interest rates by a quarter point.",
    "x",
    'U.S. Gen. Tamm said: "No." ' * 80,  # longer than the window: cut at 256 word pieces
    "Café 🏗 Ωmega 北朝鮮",
]


class OnnxFake(HashEmbedder):
    """The fake model, claiming another backend: plumbing tests need no onnxruntime."""

    def __init__(self, backend: str = "onnx-int8", device: str | None = None) -> None:
        super().__init__()
        self.backend = backend


def test_manifest_records_the_backend_and_the_other_backend_is_refused(tmp_path, articles_dir, settings):
    index_paths([articles_dir], tmp_path / "ix", embedder=OnnxFake(), settings=settings)
    index = PassageIndex.load(tmp_path / "ix")
    assert index.manifest["backend"] == "onnx-int8"
    with pytest.raises(IndexMismatchError, match=r"backend onnx-int8.*qa index --rebuild --backend torch"):
        Engine(index, HashEmbedder())


def test_an_index_from_before_backends_is_torch(built, embedder):
    index = PassageIndex.load(built)
    del index.manifest["backend"]
    Engine(index, embedder)  # accepted: vectors of old indexes came from torch
    with pytest.raises(IndexMismatchError, match="built with backend torch"):
        Engine(index, OnnxFake())


def test_engine_and_reindexing_use_the_backend_the_index_was_built_with(
    monkeypatch, tmp_path, articles_dir, settings
):
    asked = []

    def fake_default(backend="torch", device=None):
        asked.append(backend)
        return OnnxFake(backend)

    monkeypatch.setattr("qa.encode.backends.default_embedder", fake_default)
    index_paths([articles_dir], tmp_path / "ix", settings=settings, backend="onnx-int8")
    assert Engine.from_index(tmp_path / "ix").embedder.backend == "onnx-int8"
    again = index_paths([articles_dir], tmp_path / "ix", settings=settings)
    assert asked == ["onnx-int8", "onnx-int8", "onnx-int8"] and again.report.embedded == 0
    switched = index_paths([articles_dir], tmp_path / "ix", settings=settings, backend="onnx-fp32")
    assert switched.report.embedded == switched.report.passages  # another backend: nothing reused
    assert PassageIndex.load(tmp_path / "ix").manifest["backend"] == "onnx-fp32"


def test_a_new_index_is_built_with_onnx_int8_by_default(monkeypatch, tmp_path, articles_dir):
    """The default for a new index is the backend measured within 0.005 of torch on every dev
    set at 2.2x-2.7x its speed (docs/benchmarks.md, issue 16); an existing index keeps its own."""
    asked: list[str] = []

    def recording(backend="?", device=None):
        asked.append(backend)
        return OnnxFake(backend)

    monkeypatch.setattr("qa.encode.backends.default_embedder", recording)
    ix = tmp_path / "ix"
    result = CliRunner().invoke(cli, ["index", str(articles_dir), "--index", str(ix)])
    assert result.exit_code == 0, result.output
    assert asked[0] == "onnx-int8" and PassageIndex.load(ix).manifest["backend"] == "onnx-int8"
    fp32 = tmp_path / "fp32"
    assert CliRunner().invoke(cli, ["index", str(articles_dir), "--index", str(fp32), "--backend", "onnx-fp32"]).exit_code == 0
    assert CliRunner().invoke(cli, ["index", str(articles_dir), "--index", str(fp32)]).exit_code == 0
    assert PassageIndex.load(fp32).manifest["backend"] == "onnx-fp32"


def test_cli_index_backend_option(monkeypatch, tmp_path, articles_dir):
    monkeypatch.setattr("qa.encode.backends.default_embedder", OnnxFake)
    ix = tmp_path / "ix"
    result = CliRunner().invoke(cli, ["index", str(articles_dir), "--index", str(ix), "--backend", "onnx-int8"])
    assert result.exit_code == 0, result.output
    assert PassageIndex.load(ix).manifest["backend"] == "onnx-int8"
    assert "backend onnx-int8" in CliRunner().invoke(cli, ["info", "--index", str(ix)]).output
    bad = CliRunner().invoke(cli, ["index", str(articles_dir), "--index", str(ix), "--backend", "tf"])
    assert bad.exit_code == 2 and "onnx-int8" in bad.output


def test_missing_onnxruntime_says_how_to_install(monkeypatch, tmp_path):
    from qa.encode.onnx_embed import OnnxEmbedder

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if the install were broken
    with pytest.raises(MissingDependencyError, match=r"reinstall qa \(`pip install -e \.`\) or index with `--backend torch`"):
        OnnxEmbedder("onnx-int8", cache_dir=tmp_path).embed(["a question"])


# --------------------------------------------------------------------------- the real model

onnx = pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="pip install -e '.[onnx]'")


@pytest.fixture(scope="session")
def onnx_cache(model_cache):
    """One export and quantisation per test session (about 15 s), shared by every test."""
    from qa.encode.onnx_export import model_file
    from qa.text.tokens import packaged_model_dir

    model_file("onnx-int8", packaged_model_dir(), model_cache)
    return model_cache


@pytest.fixture(scope="session")
def int8(onnx_cache):
    from qa.encode.onnx_embed import OnnxEmbedder

    return OnnxEmbedder("onnx-int8", cache_dir=onnx_cache)


@onnx
@pytest.mark.model
def test_export_is_cached_once_and_leaves_no_temporary_files(onnx_cache):
    from qa.encode.embedder import weights_hash
    from qa.encode.onnx_export import cache_folder, model_file
    from qa.text.tokens import packaged_model_dir

    folder = cache_folder(packaged_model_dir(), onnx_cache)
    assert folder.name.startswith(weights_hash(str(packaged_model_dir())))
    assert sorted(p.name for p in folder.iterdir()) == ["model-fp32.onnx", "model-int8.onnx"]
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert model_file("onnx-int8", packaged_model_dir(), onnx_cache) == folder / "model-int8.onnx"
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    # int8 weights, except the fp32 word-piece table (47 MB of the 90)
    assert (folder / "model-int8.onnx").stat().st_size < (folder / "model-fp32.onnx").stat().st_size * 0.7


@onnx
@pytest.mark.model
def test_torch_questions_are_encoded_by_the_cached_fp32_file_and_by_numpy_without_it(onnx_cache, monkeypatch, tmp_path):
    from qa.encode.onnx_embed import cached_question_encoder
    from qa.text.tokens import packaged_model_dir

    assert cached_question_encoder(packaged_model_dir(), tmp_path) is None  # never exported here
    assert not list(tmp_path.iterdir())
    torch_vectors = SentenceTransformerEmbedder()._load().encode(SENTENCES, normalize_embeddings=True)
    for cache, kind in ((onnx_cache, "_QuestionSession"), (tmp_path, "NumpyMiniLM")):
        monkeypatch.setenv("QA_CACHE_DIR", str(cache))
        embedder = SentenceTransformerEmbedder()
        vectors = np.concatenate([embedder.embed([text]) for text in SENTENCES])
        assert type(embedder._few_model).__name__ == kind and embedder._model is None  # torch never loaded
        assert np.all((vectors * torch_vectors).sum(axis=1) > 0.99999)


@onnx
@pytest.mark.model
def test_int8_and_fp32_vectors_are_close_to_torch(int8, onnx_cache):
    from qa.encode.onnx_embed import OnnxEmbedder

    torch_vectors = SentenceTransformerEmbedder()._load().encode(SENTENCES, normalize_embeddings=True)
    fp32 = OnnxEmbedder("onnx-fp32", cache_dir=onnx_cache).embed(SENTENCES)
    quantised = int8.embed(SENTENCES)
    assert quantised.shape == (len(SENTENCES), 384) and quantised.dtype == np.float32
    assert np.allclose(np.linalg.norm(quantised, axis=1), 1.0, atol=1e-5)
    assert np.all((fp32 * torch_vectors).sum(axis=1) > 0.9999)
    cosines = (quantised * torch_vectors).sum(axis=1)
    assert np.all(cosines[[0, 1, 2, 4, 5]] > 0.98), cosines
    assert cosines[3] > 0.95  # "x": one word piece, where rounding weighs most (0.976 measured)
    assert (quantised[0] @ quantised[1]) > (quantised[0] @ quantised[2])  # still means something


@onnx
@pytest.mark.model
def test_sentence_vectors_are_pooled_like_torch(int8):
    text = "Title\nNorth Korea sent troops. Russia welcomed them. The talks ended."
    spans = [[(6, 32), (33, 54), (55, len(text))]]
    torch_passage, torch_sentences = SentenceTransformerEmbedder().embed_passages([text], spans)
    passage, sentences = int8.embed_passages([text], spans)
    assert sentences.shape == (3, 384)
    assert float(passage[0] @ torch_passage[0]) > 0.98
    assert np.all((sentences * torch_sentences).sum(axis=1) > 0.98)


def normalise(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


@onnx
@pytest.mark.model
def test_int8_index_answers_the_seed_questions(tmp_path, int8):
    index_paths([ROOT / "seeds"], tmp_path / "ix", embedder=int8)
    engine = Engine(PassageIndex.load(tmp_path / "ix"), int8)
    assert backend_of(engine.embedder) == engine.index.manifest["backend"] == "onnx-int8"
    questions = [json.loads(line) for line in (ROOT / "seeds" / "questions.jsonl").read_text().splitlines()]
    found = 0
    for q in questions:
        answer = engine.ask(q["question"], SearchOptions(k=3))
        if q.get("unanswerable"):
            assert answer.abstained, q["question"]
            continue
        passages = " ".join(normalise(h.passage.text) for h in answer.hits)
        found += any(normalise(gold) in passages for gold in q["answers"])
    answerable = sum(1 for q in questions if not q.get("unanswerable"))
    assert found == answerable  # as with torch (tests/test_real_model.py)
    with pytest.raises(IndexMismatchError, match="backend onnx-int8"):
        Engine(engine.index, SentenceTransformerEmbedder())


@onnx
@pytest.mark.model
def test_asking_an_int8_index_uses_onnx_and_never_imports_torch(tmp_path, int8, onnx_cache):
    import os
    import subprocess

    index_paths([ROOT / "seeds"], tmp_path / "ix", embedder=int8)
    code = (
        "import sys; from qa import Engine\n"
        f"e = Engine.from_index({str(tmp_path / 'ix')!r})\n"
        "a = e.ask('Who leads the North Korean delegation to Russia?')\n"
        "print(e.embedder.backend, 'Choe Son Hui' in a.text, 'torch' in sys.modules)"
    )
    env = {**os.environ, "QA_CACHE_DIR": str(onnx_cache)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.stdout.split() == ["onnx-int8", "True", "False"], out.stdout + out.stderr


def test_the_first_export_is_announced_once(monkeypatch, tmp_path):
    from qa.encode import onnx_export
    from qa.text.tokens import packaged_model_dir

    monkeypatch.setattr(onnx_export, "export_fp32", lambda model_dir, target: target.write_bytes(b"fp32"))
    monkeypatch.setattr(onnx_export, "quantize_int8", lambda source, target: target.write_bytes(b"int8"))
    lines: list[str] = []
    path = onnx_export.model_file("onnx-int8", packaged_model_dir(), tmp_path, notify=lines.append)
    assert path.read_bytes() == b"int8" and len(lines) == 2
    assert lines[0].startswith("Preparing the onnx-int8 model (first run only") and str(tmp_path) in lines[0]
    assert lines[1].startswith("Prepared the onnx-int8 model in")
    onnx_export.model_file("onnx-int8", packaged_model_dir(), tmp_path, notify=lines.append)
    assert len(lines) == 2  # cached: nothing to say


def test_cli_index_shows_the_export_line(monkeypatch, tmp_path, articles_dir):
    class Exporting(OnnxFake):
        def prepare(self, notify=None):  # type: ignore[no-untyped-def]
            if notify:  # --json: no line (the real one logs instead)
                notify("Preparing the onnx-int8 model (first run only, about 20 s; cached in X)...")

    monkeypatch.setattr("qa.encode.backends.default_embedder", Exporting)
    result = CliRunner().invoke(cli, ["index", str(articles_dir), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 0 and "Preparing the onnx-int8 model" in result.output
    quiet = CliRunner().invoke(cli, ["index", str(articles_dir), "--index", str(tmp_path / "iy"), "--json"])
    assert "Preparing" not in quiet.output and json.loads(quiet.output)["articles"] == 6


class RecordingSession:
    """An ONNX session whose token vectors depend on the token alone; it records each pass's shape."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, int]] = []
        self.table = np.random.default_rng(0).standard_normal((30522, 384), dtype=np.float32)

    def run(self, outputs, feeds):
        ids = feeds["input_ids"]
        self.shapes.append(ids.shape)
        return [self.table[ids]]


def test_long_texts_run_a_few_rows_per_pass_with_the_same_vectors():
    from qa.encode.onnx_embed import ATTENTION_BUDGET, OnnxEmbedder

    session = RecordingSession()
    embedder = OnnxEmbedder("onnx-int8", batch_size=32, workers=1, session=session)
    texts = [f"Short note {i}." for i in range(40)] + [f"{SENTENCES[1]} " * (i + 20) for i in range(40)]
    together = embedder.embed(texts)
    assert max(rows * tokens**2 for rows, tokens in session.shapes) <= ATTENTION_BUDGET
    assert (32, 256) not in session.shapes and any(rows == 32 for rows, _ in session.shapes)  # short: whole
    alone = np.concatenate([embedder.embed([text]) for text in texts])
    assert np.allclose(together, alone, atol=1e-6)
