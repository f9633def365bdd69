"""The on-disk cache of the index's vectors, keyed by a hash of exactly what was embedded.

Embedding the course takes a while (tens of seconds on two cores), so the vectors of the
passages, their candidate answer sentences and the guides are kept in one ``.npz`` file whose
name holds a hash of the texts, the model and :data:`INDEX_FORMAT`: any change to the course
gives a new key and a rebuild, and the files of older courses are removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.qa.embedder import MODEL_SHA256

log = logging.getLogger(__name__)

#: Bump when the way passages, sentences or embedded texts are made changes.
INDEX_FORMAT = 3
CACHE_PREFIX = "ask-index-"


def cache_key(
    passage_texts: Sequence[str], sentences: Sequence[str], guides: Sequence[str] = ()
) -> str:
    """The hash of what is embedded: the texts, the model's weights and the index format."""
    payload = json.dumps(
        {
            "format": INDEX_FORMAT,
            "model": MODEL_SHA256,
            "passages": list(passage_texts),
            "sentences": list(sentences),
            "guides": list(guides),
        },
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def cache_path(cache_dir: Path, key: str) -> Path:
    """Where the vectors of ``key`` are kept in ``cache_dir``."""
    return Path(cache_dir) / f"{CACHE_PREFIX}{key[:32]}.npz"


def read_cache(path: Path, key: str, rows: int) -> np.ndarray | None:
    """The cached vectors, or None when the file is missing, unreadable or of another course."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            stored_key = str(data["key"])
            vectors = np.asarray(data["vectors"], dtype=np.float32)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("Ignoring the unreadable embedding cache %s: %s", path, exc)
        return None
    if stored_key != key or vectors.shape[0] != rows:
        log.warning("Ignoring the embedding cache %s: it does not match the course", path)
        return None
    return vectors


def write_cache(path: Path, key: str, vectors: np.ndarray) -> None:
    """Store ``vectors`` atomically, then remove the caches of older courses."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a crash or a second process never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, key=np.array(key), vectors=vectors)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in path.parent.glob(f"{CACHE_PREFIX}*.npz"):
        if old != path:
            old.unlink(missing_ok=True)  # vectors of an older course: never read again
