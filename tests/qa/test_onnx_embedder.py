"""The ONNX Runtime backend: the shipped graph, the same vectors as NumPy, and the fallback."""

from __future__ import annotations

import json
import logging
import sys

import numpy as np
import pytest
from safetensors.numpy import load_file

from bot.qa.embedder import MAX_SEQ_LENGTH, Embedder, ModelUnavailableError, default_model_dir
from bot.qa.onnx_bert import GRAPH_PATH, OnnxBackendError, OnnxBert, build_graph

LONG = " ".join(f"word{i} attention heads weigh every token of the context" for i in range(60))
TEXTS = [
    "What does a positional encoding add?",
    "short",
    "A somewhat longer sentence about attention heads, softmax and the residual stream.",
    LONG,  # over 256 tokens: both truncate it the same way
    "tokens " * 40,
]


def _config() -> dict[str, object]:
    return json.loads((default_model_dir() / "config.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def numpy_embedder() -> Embedder:
    return Embedder.load(backend="numpy")


def test_the_shipped_graph_is_what_the_builder_makes() -> None:
    """bot/qa/all-MiniLM-L6-v2.onnx is up to date: else run dev/make_onnx_graph.py."""
    assert GRAPH_PATH.read_bytes() == build_graph(_config()), (
        "the shipped ONNX graph is stale: run .venv/bin/python dev/make_onnx_graph.py"
    )


def test_onnx_is_the_default_backend() -> None:
    assert Embedder.shared().backend == "onnx"


def test_onnx_vectors_match_numpy(numpy_embedder: Embedder) -> None:
    """One batch padded to its longest text, one text over 256 tokens, and a query alone."""
    onnx = Embedder.shared()
    assert onnx.count_tokens(LONG) > MAX_SEQ_LENGTH
    ours = onnx.embed(TEXTS, batch_size=8)  # one batch: the short texts are padded
    reference = numpy_embedder.embed(TEXTS, batch_size=1)  # each text alone, no padding
    cosines = np.sum(ours * reference, axis=1)
    assert cosines.min() > 0.99999, dict(zip(TEXTS, cosines.round(7), strict=True))
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    alone = onnx.embed([TEXTS[0]])[0]
    assert float(alone @ reference[0]) > 0.99999


def test_a_graph_that_does_not_fit_is_refused() -> None:
    """A graph made for another config, or no graph, is not run: a clear error instead."""
    tensors = load_file(str(default_model_dir() / "model.safetensors"))
    # Same tensors, another LayerNorm epsilon: ONNX Runtime would run it, the check refuses it.
    other_eps = _config() | {"layer_norm_eps": 1e-5}
    with pytest.raises(OnnxBackendError, match=r"dev/make_onnx_graph\.py"):
        OnnxBert.load(tensors, _config(), graph=build_graph(other_eps))
    # Fewer layers than the weights, or not a graph at all: ONNX Runtime itself refuses it.
    fewer_layers = _config() | {"num_hidden_layers": 4}
    for graph in (build_graph(fewer_layers), b"not an ONNX model"):
        with pytest.raises(OnnxBackendError, match="cannot load the graph"):
            OnnxBert.load(tensors, _config(), graph=graph)


def test_without_onnxruntime_the_embedder_falls_back_to_numpy(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, numpy_embedder: Embedder
) -> None:
    """No onnxruntime: "auto" embeds with NumPy (and says so), "onnx" refuses to load."""
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now fails
    with caplog.at_level(logging.WARNING, logger="bot.qa.embedder"):
        fallback = Embedder.load()
    assert fallback.backend == "numpy"
    assert "NumPy instead of ONNX Runtime" in caplog.text
    np.testing.assert_array_equal(fallback.embed(TEXTS[:2]), numpy_embedder.embed(TEXTS[:2]))
    with pytest.raises(ModelUnavailableError, match="ONNX Runtime"):
        Embedder.load(backend="onnx")
