"""Re-indexing reuses the vectors of every passage whose embedding input is unchanged."""

from __future__ import annotations

from qa.config import IndexSettings
from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex
from qa.index.vectors import embedding_key

from .conftest import HashEmbedder

SMALL = IndexSettings(model=HashEmbedder.name, dim=HashEmbedder.dim, passage_tokens=24)
PARAGRAPHS = [
    f"The {topic} committee met on day {n}. Members argued about the {topic} budget. "
    f"A vote on the {topic} plan was delayed again."
    for n, topic in enumerate(["harbour", "river", "school", "tram", "museum", "market"], 1)
]


def write(folder, name, paragraphs, title="Council Week"):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(f"{title}\n\n" + "\n\n".join(paragraphs))


def index(folder, ix):
    embedder = HashEmbedder()
    report = index_paths([folder], ix, embedder=embedder, settings=SMALL).report
    return report, embedder


def keys(ix):
    return {embedding_key(p) for p in PassageIndex.load(ix).passages}


def test_an_edited_paragraph_re_embeds_only_its_passages(tmp_path):
    folder, ix = tmp_path / "news", tmp_path / "ix"
    write(folder, "week.txt", PARAGRAPHS)
    first, _ = index(folder, ix)
    before = keys(ix)
    edited = [*PARAGRAPHS]
    edited[3] = edited[3].replace("argued about", "quarrelled over")
    write(folder, "week.txt", edited)
    report, embedder = index(folder, ix)
    changed = keys(ix) - before
    assert first.passages >= 6 and report.updated == 1
    assert 0 < len(changed) < report.passages
    assert report.embedded == embedder.texts_embedded == len(changed)
    index_paths([folder], tmp_path / "fresh", embedder=HashEmbedder(), settings=SMALL)
    assert keys(ix) == keys(tmp_path / "fresh")


def test_a_renamed_file_embeds_nothing(tmp_path):
    folder, ix = tmp_path / "news", tmp_path / "ix"
    write(folder, "week.txt", PARAGRAPHS)
    index(folder, ix)
    (folder / "week.txt").rename(folder / "renamed.txt")
    report, embedder = index(folder, ix)
    assert (report.added, report.removed, report.embedded, embedder.texts_embedded) == (1, 1, 0, 0)
    loaded = PassageIndex.load(ix)
    assert {p.article_id for p in loaded.passages} == {"renamed"}
    assert len(loaded.passages) == loaded.dense.ntotal


def test_a_new_title_re_embeds_every_passage_of_the_article(tmp_path):
    folder, ix = tmp_path / "news", tmp_path / "ix"
    write(folder, "week.txt", PARAGRAPHS)
    index(folder, ix)
    write(folder, "week.txt", PARAGRAPHS, title="Council Fortnight")  # the title is embedded
    report, embedder = index(folder, ix)
    assert report.embedded == embedder.texts_embedded == report.passages


def test_a_metadata_change_is_written_without_embedding(tmp_path):
    folder, ix = tmp_path / "news", tmp_path / "ix"
    write(folder, "week.txt", PARAGRAPHS)
    index(folder, ix)
    (folder / "week.txt").write_text("date 2024-05-01\n\n" + (folder / "week.txt").read_text())
    report, embedder = index(folder, ix)
    assert report.updated == 1 and report.embedded == embedder.texts_embedded == 0
    assert PassageIndex.load(ix).articles["week"].date == "2024-05-01"
