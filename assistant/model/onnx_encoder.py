"""The same sentence-transformers encoder, run by ONNX Runtime.

Why: a question's embedding is most of what an answer costs.  PyTorch needs
~40 ms for one short question on this 2-core machine; ONNX Runtime gives the
same vectors (max difference ~1e-7, checked at export) in ~13 ms once its
attention, GELU and layer norms are fused, and it never loads PyTorch weights
in a server.

The graph is exported once per model fingerprint into the models folder,
beside a small JSON *recipe* (pooling, normalization, prompts, length), so a
server that finds both never loads PyTorch weights at all.  Models this
module cannot reproduce exactly (extra Dense layers, other pooling) are
refused at export and keep running through sentence-transformers.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

EXPORT_VERSION = "2"  # 2: eager attention, fused by ONNX Runtime's transformer optimizer
_PROBES = ("اعتماد در روابط عمومی چگونه ساخته می‌شود؟", "PR", "همدلی، عدالت، ثبات و حمایت " * 6)
_TOLERANCE = 1e-4
_DRAFTS = "export-"  # prefix of an export's working folder


@dataclass(frozen=True)
class Recipe:
    """What sentence-transformers does around the transformer, as plain data."""

    pooling: str  # "mean" or "cls"
    normalize: bool
    max_length: int
    dimension: int
    prompts: dict[str, str]


class NotExportable(Exception):
    """This model's pipeline is not one ONNX Runtime can reproduce here."""


def paths(models_dir: Path, fingerprint: str) -> tuple[Path, Path]:
    """Where the graph and its recipe live (outside the model folder: its fingerprint stays)."""
    stem = models_dir / "onnx" / f"{fingerprint}-v{EXPORT_VERSION}"
    return stem.with_suffix(".onnx"), stem.with_suffix(".json")


def recipe_of(model) -> Recipe:
    """Read pooling and normalization off a loaded SentenceTransformer, or refuse."""
    kinds = [type(module).__name__ for module in model]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise NotExportable(f"modules {kinds}")
    config = model[1].get_config_dict()
    mode = config.get("pooling_mode")
    if mode is None:  # sentence-transformers < 5 spelled it as flags
        modes = [m for m in ("mean", "cls") if config.get(f"pooling_mode_{m}_tokens")]
        mode = modes[0] if len(modes) == 1 else None
    if mode not in ("mean", "cls") or config.get("include_prompt") is False:
        raise NotExportable(f"pooling {config}")
    return Recipe(
        pooling=mode,
        normalize=kinds[-1] == "Normalize",
        max_length=int(model.max_seq_length),
        dimension=int(model.get_embedding_dimension()),
        prompts={k: v for k, v in (model.prompts or {}).items() if isinstance(v, str)},
    )


def export(model, graph: Path, recipe_path: Path) -> Recipe:
    """Trace the transformer to ONNX, fuse it, check it against sentence-transformers, then publish."""
    recipe = recipe_of(model)
    graph.parent.mkdir(parents=True, exist_ok=True)
    sweep_abandoned(graph.parent)
    with tempfile.TemporaryDirectory(dir=graph.parent, prefix=_DRAFTS) as tmp:
        draft = _trace(model, Path(tmp) / "traced.onnx")
        draft = _fuse(model, draft, Path(tmp) / "fused.onnx")
        encoder = OnnxEncoder(draft, model.tokenizer, recipe)
        expected = model.encode(
            list(_PROBES),
            normalize_embeddings=recipe.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        worst = float(np.abs(encoder.encode(list(_PROBES)) - expected).max())
        if worst > _TOLERANCE:
            raise NotExportable(f"ONNX output differs by {worst:.2e}")
        os.replace(draft, graph)
    recipe_path.write_text(json.dumps(asdict(recipe), ensure_ascii=False, indent=1), encoding="utf-8")
    fingerprint = graph.name.rsplit("-v", 1)[0]
    for stale in graph.parent.glob(f"{fingerprint}-v*"):  # earlier exports of this model (~470 MB each)
        if stale not in (graph, recipe_path):
            stale.unlink(missing_ok=True)
    return recipe


def sweep_abandoned(folder: Path, older_than: float = 3600.0) -> list[Path]:
    """Remove drafts a killed export left behind (~1 GB each); a running export is younger."""
    removed = []
    for draft in folder.glob(f"{_DRAFTS}*"):
        try:
            if draft.is_dir() and time.time() - draft.stat().st_mtime > older_than:
                shutil.rmtree(draft, ignore_errors=True)
                removed.append(draft)
        except OSError:  # another process removed it first
            continue
    return removed


def _trace(model, path: Path) -> Path:
    """Input ids and mask → last hidden state, with plain (eager) attention the optimizer can fuse."""
    import torch

    transformer = model[0].auto_model.eval()
    before = transformer.config._attn_implementation
    transformer.set_attn_implementation("eager")

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = model.tokenizer(list(_PROBES[:2]), return_tensors="pt", padding=True)
    axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "hidden")}
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes; export() checks the result
            torch.onnx.export(
                Hidden(),
                (sample["input_ids"], sample["attention_mask"]),
                str(path),
                input_names=["input_ids", "attention_mask"],
                output_names=["hidden"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
    finally:
        transformer.set_attn_implementation(before)
    return path


def _fuse(model, traced: Path, path: Path) -> Path:
    """Attention, GELU and layer norms fused into ONNX Runtime's own kernels (~1.3× on this CPU).

    A BERT-shaped encoder (XLM-RoBERTa, e5) is what the optimizer knows; for
    anything else it leaves the graph as traced, which is still correct.
    """
    from onnxruntime.transformers.optimizer import optimize_model

    config = model[0].auto_model.config
    try:
        fused = optimize_model(
            str(traced),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
        )
        fused.save_model_to_file(str(path))
    except Exception as exc:  # an unfamiliar graph: keep the traced one
        log.info("ONNX graph not fused (%s: %s)", type(exc).__name__, exc)
        return traced
    return path


def load_recipe(recipe_path: Path) -> Recipe:
    return Recipe(**json.loads(recipe_path.read_text(encoding="utf-8")))


class OnnxEncoder:
    """Tokenize → ONNX transformer → pool → normalize; safe to call from many threads."""

    def __init__(self, graph: Path, tokenizer, recipe: Recipe, threads: int = 0):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        # idle workers sleep instead of spinning: answers run side by side on few cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.recipe = recipe
        self._tokenize_lock = threading.Lock()  # a fast tokenizer's padding state is not thread-safe

    def encode(self, texts: Sequence[str], prompt: str = "", batch_size: int = 8) -> np.ndarray:
        """Vectors in input order; batches are formed by length so padding stays small."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.recipe.dimension), np.float32)
        for start in range(0, len(order), batch_size):
            part = order[start : start + batch_size]
            out[part] = self._run([prompt + texts[i] for i in part])
        return out

    def _run(self, texts: list[str]) -> np.ndarray:
        with self._tokenize_lock:
            batch = self.tokenizer(
                texts, padding=True, truncation=True, max_length=self.recipe.max_length, return_tensors="np"
            )
        ids = batch["input_ids"].astype(np.int64)
        mask = batch["attention_mask"].astype(np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        if self.recipe.pooling == "cls":
            vectors = hidden[:, 0]
        else:
            weights = mask[..., None].astype(np.float32)
            vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        if self.recipe.normalize:
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)
