"""A pack's bulk embeddings, kept on disk by content.

Indexing a persona pack embeds a few hundred questions and words, seconds of CPU per pack, paid
again by every server start (and every test server). The same model and the same texts always
give the same vectors, so they are stored under the cache folder keyed by a hash of both and
read back next time. Embedders without a `fingerprint` (test fakes) are never cached.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """`BEDSIDE_CACHE_DIR`, else `$XDG_CACHE_HOME/bedside`, else `~/.cache/bedside`."""
    configured = os.environ.get("BEDSIDE_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bedside"


def embed_cached(embedder, texts: list[str], folder: Path | None = None) -> np.ndarray:
    """`embedder.embed(texts)`, read from disk when this model embedded these texts before."""
    fingerprint = getattr(embedder, "fingerprint", None)
    if not texts or not fingerprint:
        return embedder.embed(texts)
    key = hashlib.sha256("\x1e".join([fingerprint, *texts]).encode("utf-8")).hexdigest()[:32]
    path = (folder or cache_dir()) / "embeddings" / f"{key}.npy"
    try:
        vecs = np.load(path, allow_pickle=False)
        if vecs.shape[0] == len(texts):
            return vecs
    except (OSError, ValueError):
        pass  # absent or unreadable: compute it again
    vecs = embedder.embed(texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, vecs, allow_pickle=False)
        os.replace(tmp, path)  # readers never see half a file
    except OSError as exc:  # a read-only home still serves, only slower to start
        log.warning("could not keep pack embeddings in %s (%s); set BEDSIDE_CACHE_DIR to a writable folder", path.parent, exc)
    return vecs
