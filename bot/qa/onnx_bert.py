"""all-MiniLM-L6-v2 as an ONNX graph written by hand, run by ONNX Runtime (about twice NumPy's speed).

No ONNX file of this model ships in a package and exporting one needs torch, so the graph is
written here node by node with :mod:`onnx.helper` (:func:`build_graph`). It computes what the
NumPy forward pass of :mod:`bot.qa.embedder` does (BERT: embeddings, 6 layers of self-attention
and exact-erf GELU feed-forward, each followed by a residual LayerNorm), then
sentence-transformers' mean pooling over real tokens and L2 normalisation: a session turns token
ids and an attention mask into finished unit vectors.

The graph holds no weights. Its weight tensors are declared *external* and handed to ONNX
Runtime at session creation (:func:`graph_weights`, from the safetensors tensors the embedder
has already checked by sha256), so the 90 MB of weights are never copied into a protobuf and
parsed back, and the graph itself is a 17 kB file, :data:`GRAPH_PATH`, shipped with the code.
Building it takes 4 ms, but importing the ``onnx`` package to do so takes about a second (its
``ml_dtypes`` dependency), which the bot's cold start should not pay on every run: so the file
is made once by ``dev/make_onnx_graph.py``, and a test checks that it is exactly what
:func:`build_graph` makes today. At run time only ``onnxruntime`` is needed.

Inputs ``input_ids`` and ``attention_mask`` are int64 ``(batch, length)``; the output
``embedding`` is float32 ``(batch, hidden)``. Padding positions get a score of -1e9 before the
softmax (no attention weight) and are left out of the mean, so a batch padded to its longest
text gives the same vectors as each text alone. Only standard operators are used (opset 17, the
first with LayerNormalization); ONNX Runtime's optimiser fuses each GELU with its bias
addition (BiasGelu) and pre-packs the weight matrices (in a trial here, turning pre-packing
off made a query 13.4 ms instead of 7.7 ms). A query streams all 43 MB of layer weights from
memory, which takes most of its time, so further graph tweaks gain little; smaller weights
(int8) would change the vectors, and so the rankings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

#: The graph made by :func:`build_graph` for the model's ``config.json`` (see the module doc).
GRAPH_PATH = Path(__file__).with_name("all-MiniLM-L6-v2.onnx")
#: Opset 17 is the first with LayerNormalization; every ONNX Runtime since 1.14 runs it.
OPSET = 17
#: A padding position's attention score: far below any real one, so softmax gives it 0.
MASKED_SCORE = -1e9
#: The graph's metadata key holding the model dimensions it was built for.
_DIMS_KEY = "tutorbot.dims"


class OnnxBackendError(Exception):
    """The ONNX graph cannot be used with this model (the NumPy forward pass still can)."""


def _dims(config: Mapping[str, Any]) -> tuple[int, int, int, int, int, int, float]:
    """Vocabulary, positions, hidden, intermediate, layers, heads, LayerNorm epsilon."""
    return (
        int(config["vocab_size"]),
        int(config["max_position_embeddings"]),
        int(config["hidden_size"]),
        int(config["intermediate_size"]),
        int(config["num_hidden_layers"]),
        int(config["num_attention_heads"]),
        float(config.get("layer_norm_eps", 1e-12)),
    )


def weight_shapes(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The graph's weight tensors, by name, with their shapes (the graph and its weights agree)."""
    vocab, positions, hidden, inter, layers, _, _ = _dims(config)
    shapes: dict[str, tuple[int, ...]] = {
        "word": (vocab, hidden),
        "pos_type": (positions, hidden),
        "emb.ln.g": (hidden,),
        "emb.ln.b": (hidden,),
    }
    for i in range(layers):
        n = f"l{i}"
        shapes |= {
            f"{n}.qkv.w": (hidden, 3 * hidden),
            f"{n}.qkv.b": (3 * hidden,),
            f"{n}.attn_out.w": (hidden, hidden),
            f"{n}.attn_out.b": (hidden,),
            f"{n}.attn_ln.g": (hidden,),
            f"{n}.attn_ln.b": (hidden,),
            f"{n}.inter.w": (hidden, inter),
            f"{n}.inter.b": (inter,),
            f"{n}.out.w": (inter, hidden),
            f"{n}.out.b": (hidden,),
            f"{n}.out_ln.g": (hidden,),
            f"{n}.out_ln.b": (hidden,),
        }
    return shapes


def graph_weights(
    tensors: Mapping[str, np.ndarray], config: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """The safetensors weights in the graph's layout: C-contiguous float32, by graph name.

    A PyTorch ``Linear`` stores (out, in); the graph multiplies by (in, out). Query, key and
    value are concatenated for one matmul, with the query's 1/sqrt(head_dim) folded in. Token
    type is always 0 for one sentence, so its row is added to the position table.
    """
    _, _, hidden, _, layers, heads, _ = _dims(config)
    scale = np.float32(1.0 / np.sqrt(hidden // heads))

    def t(name: str) -> np.ndarray:
        return np.asarray(tensors[name], dtype=np.float32)

    def in_out(name: str) -> np.ndarray:
        return np.ascontiguousarray(t(name).T)

    out: dict[str, np.ndarray] = {
        "word": t("embeddings.word_embeddings.weight"),
        "pos_type": t("embeddings.position_embeddings.weight")
        + t("embeddings.token_type_embeddings.weight")[0],
        "emb.ln.g": t("embeddings.LayerNorm.weight"),
        "emb.ln.b": t("embeddings.LayerNorm.bias"),
    }
    for i in range(layers):
        p = f"encoder.layer.{i}."
        att = p + "attention.self."
        n = f"l{i}"
        out |= {
            f"{n}.qkv.w": np.ascontiguousarray(
                np.concatenate(
                    [t(att + "query.weight") * scale, t(att + "key.weight"),
                     t(att + "value.weight")]
                ).T
            ),
            f"{n}.qkv.b": np.concatenate(
                [t(att + "query.bias") * scale, t(att + "key.bias"), t(att + "value.bias")]
            ),
            f"{n}.attn_out.w": in_out(p + "attention.output.dense.weight"),
            f"{n}.attn_out.b": t(p + "attention.output.dense.bias"),
            f"{n}.attn_ln.g": t(p + "attention.output.LayerNorm.weight"),
            f"{n}.attn_ln.b": t(p + "attention.output.LayerNorm.bias"),
            f"{n}.inter.w": in_out(p + "intermediate.dense.weight"),
            f"{n}.inter.b": t(p + "intermediate.dense.bias"),
            f"{n}.out.w": in_out(p + "output.dense.weight"),
            f"{n}.out.b": t(p + "output.dense.bias"),
            f"{n}.out_ln.g": t(p + "output.LayerNorm.weight"),
            f"{n}.out_ln.b": t(p + "output.LayerNorm.bias"),
        }
    shapes = weight_shapes(config)
    wrong = [name for name, array in out.items() if array.shape != shapes[name]]
    if wrong:
        raise OnnxBackendError(
            f"weights of unexpected shape for the ONNX graph: {', '.join(wrong)}"
        )
    return {name: np.ascontiguousarray(array) for name, array in out.items()}


def build_graph(config: Mapping[str, Any]) -> bytes:
    """The serialized ONNX model (without its weights) of the encoder, pooling and normalisation.

    ``config`` is the model's ``config.json``. The weight tensors named by
    :func:`weight_shapes` are declared external: give them to the session with
    ``SessionOptions.add_external_initializers``.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    _, _, hidden, _, layers, heads, eps = _dims(config)
    head_dim = hidden // heads
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []

    for name, shape in weight_shapes(config).items():
        tensor = onnx.TensorProto(name=name, data_type=TensorProto.FLOAT, dims=shape)
        tensor.data_location = TensorProto.EXTERNAL
        # Never read: the session gets the real data from add_external_initializers.
        tensor.external_data.add(key="location", value="supplied-at-session-creation")
        initializers.append(tensor)

    def const(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def linear(x: str, prefix: str) -> str:
        return node("Add", [node("MatMul", [x, f"{prefix}.w"], f"{prefix}.mm"), f"{prefix}.b"],
                    prefix)

    def layer_norm(x: str, prefix: str) -> str:
        return node("LayerNormalization", [x, f"{prefix}.g", f"{prefix}.b"], prefix,
                    axis=-1, epsilon=eps)

    def i64(*values: int) -> np.ndarray:
        return np.array(values, dtype=np.int64)

    def f32(value: float) -> np.ndarray:
        return np.array(value, dtype=np.float32)

    const("0", i64(0))
    const("1", i64(1))
    const("2", i64(2))

    # --- embeddings: word + (position + token type 0), then LayerNorm ---------------------
    length = node("Slice", [node("Shape", ["input_ids"], "ids_shape"), "1", "2", "0"], "length")
    positions = node("Slice", ["pos_type", "0", length, "0"], "positions")
    words = node("Gather", ["word", "input_ids"], "words")
    x = layer_norm(node("Add", [words, positions], "emb.sum"), "emb.ln")

    # --- the mask: a score bias for attention, weights for the mean -----------------------
    mask = node("Cast", ["attention_mask"], "mask", to=TensorProto.FLOAT)
    padding = node("Sub", [const("one", f32(1.0)), mask], "padding")
    bias = node("Mul", [padding, const("masked_score", f32(MASKED_SCORE))], "mask_bias.2d")
    # (B, 1, 1, L): broadcast over heads and query positions.
    bias = node("Unsqueeze", [bias, const("axes_1_2", i64(1, 2))], "mask_bias")

    const("split_heads", i64(0, 0, heads, head_dim))
    const("merge_heads", i64(0, 0, hidden))
    const("qkv_sizes", i64(hidden, hidden, hidden))
    const("sqrt2", f32(np.sqrt(2.0)))
    const("half", f32(0.5))
    for i in range(layers):
        n = f"l{i}"
        qkv = linear(x, f"{n}.qkv")
        parts = [f"{n}.q.flat", f"{n}.k.flat", f"{n}.v.flat"]
        nodes.append(helper.make_node("Split", [qkv, "qkv_sizes"], parts, name=f"{n}.split",
                                      axis=-1))
        q, k, v = (node("Reshape", [part, "split_heads"], part[: -len("flat")] + "heads")
                   for part in parts)
        q = node("Transpose", [q], f"{n}.q", perm=[0, 2, 1, 3])  # (B, heads, L, d)
        k = node("Transpose", [k], f"{n}.k", perm=[0, 2, 3, 1])  # (B, heads, d, L)
        v = node("Transpose", [v], f"{n}.v", perm=[0, 2, 1, 3])  # (B, heads, L, d)
        scores = node("Add", [node("MatMul", [q, k], f"{n}.scores"), bias], f"{n}.masked")
        probs = node("Softmax", [scores], f"{n}.probs", axis=-1)
        context = node("Transpose", [node("MatMul", [probs, v], f"{n}.ctx.heads")],
                       f"{n}.ctx.t", perm=[0, 2, 1, 3])
        context = node("Reshape", [context, "merge_heads"], f"{n}.ctx")
        x = node("Add", [linear(context, f"{n}.attn_out"), x], f"{n}.attn_res")
        x = layer_norm(x, f"{n}.attn_ln")
        # Exact GELU, 0.5 * x * (1 + erf(x / sqrt(2))): the pattern ONNX Runtime fuses.
        inter = linear(x, f"{n}.inter")
        erf = node("Erf", [node("Div", [inter, "sqrt2"], f"{n}.gelu.div")], f"{n}.gelu.erf")
        gelu = node("Mul", [inter, node("Add", [erf, "one"], f"{n}.gelu.add")], f"{n}.gelu.mul")
        gelu = node("Mul", [gelu, "half"], f"{n}.gelu")
        x = node("Add", [linear(gelu, f"{n}.out"), x], f"{n}.out_res")
        x = layer_norm(x, f"{n}.out_ln")

    # --- mean pooling over real tokens, then L2 normalisation -----------------------------
    weights = node("Unsqueeze", [mask, "2"], "mask.3d")
    summed = node("ReduceSum", [node("Mul", [x, weights], "masked_hidden"), "1"], "summed",
                  keepdims=0)
    counts = node("ReduceSum", [mask, "1"], "counts.raw", keepdims=1)
    counts = node("Max", [counts, const("min_count", f32(1e-9))], "counts")
    pooled = node("Div", [summed, counts], "pooled")
    squares = node("ReduceSum", [node("Mul", [pooled, pooled], "squares.each"), "1"],
                   "squares", keepdims=1)
    norms = node("Max", [node("Sqrt", [squares], "norms.raw"), const("min_norm", f32(1e-12))],
                 "norms")
    node("Div", [pooled, norms], "embedding")

    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info(
                "attention_mask", TensorProto.INT64, ["batch", "length"]
            ),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
        initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tutorbot"
    )
    model.ir_version = 8  # the IR version that came with opset 17
    # The dimensions it was built for: a session refuses to run it with another model's weights.
    helper.set_model_props(model, {_DIMS_KEY: json.dumps(_dims(config))})
    return model.SerializeToString()


class OnnxBert:
    """One ONNX Runtime session of the graph with the model's weights: ids and mask to vectors.

    Thread-safe (ONNX Runtime allows concurrent runs of one session) and releases the GIL while
    it computes.
    """

    def __init__(self, session: Any, weights: dict[str, np.ndarray]) -> None:
        self._session = session
        # The session reads the weights from these arrays' memory: they must outlive it.
        self._weights = weights

    @classmethod
    def load(
        cls,
        tensors: Mapping[str, np.ndarray],
        config: Mapping[str, Any],
        *,
        threads: int = 1,
        graph: bytes | None = None,
    ) -> OnnxBert:
        """A session of ``graph`` (default: the shipped :data:`GRAPH_PATH`) with ``tensors``.

        ``threads`` is ONNX Runtime's intra-op thread count. One is the right number on our
        2-core machine, where one query runs at a time next to the bot and a database. Measured
        with ``bench/embed_query.py`` (238 questions x 5, machine load ~2): one thread 9.4 / 12.6
        ms (p50 / p95); two threads 7.6 / 23.9 ms, while the second thread spins between
        queries on the other core, doubling the CPU time of the rest of the process (the same
        reason NumPy's BLAS is kept to one thread).

        Raises :class:`ImportError` without ``onnxruntime``, and :class:`OnnxBackendError` when
        the graph is missing, was built for other dimensions, or the runtime refuses it.
        """
        import onnxruntime as ort

        if graph is None:
            try:
                graph = GRAPH_PATH.read_bytes()
            except OSError as exc:
                raise OnnxBackendError(f"the ONNX graph {GRAPH_PATH} cannot be read: {exc}") from exc
        weights = graph_weights(tensors, config)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: its optimiser notes are not for operators
        names = list(weights)
        options.add_external_initializers(
            names, [ort.OrtValue.ortvalue_from_numpy(weights[name]) for name in names]
        )
        try:
            session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ONNX Runtime raises its own exception types for bad models
            raise OnnxBackendError(f"ONNX Runtime cannot load the graph: {exc}") from exc
        built_for = session.get_modelmeta().custom_metadata_map.get(_DIMS_KEY)
        if built_for != json.dumps(_dims(config)):
            raise OnnxBackendError(
                f"the ONNX graph was built for model dimensions {built_for}, not "
                f"{json.dumps(_dims(config))}: rebuild it with dev/make_onnx_graph.py"
            )
        return cls(session, weights)

    def embed(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Unit vectors ``(batch, hidden)`` of int64 token ids and attention mask ``(batch, length)``."""
        (vectors,) = self._session.run(
            ["embedding"],
            {
                "input_ids": np.asarray(ids, dtype=np.int64),
                "attention_mask": np.asarray(mask, dtype=np.int64),
            },
        )
        return np.asarray(vectors, dtype=np.float32)
