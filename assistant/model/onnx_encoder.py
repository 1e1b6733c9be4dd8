"""The same sentence-transformers encoder, run by ONNX Runtime.

Why: a question's embedding is most of what an answer costs.  PyTorch needs
~40 ms for one short question on this 2-core machine; ONNX Runtime gives the
same vectors (max difference ~1e-7, checked at export) in ~13 ms once its
attention, GELU and layer norms are fused, and it never loads PyTorch weights
in a server.

The graph lives once per model fingerprint in the models folder
(``onnx/<fingerprint>-v3/``), beside a small JSON *recipe* (pooling,
normalization, prompts, length), so a server that finds both never imports
PyTorch at all.  The bundled e5 is written there directly from its weights
(``e5graph``); any other sentence-transformers model is traced here once.
Models this module cannot reproduce exactly (extra Dense layers, other
pooling) are refused at export and keep running through sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

EXPORT_VERSION = "3"  # 3: a folder per model (graph, external weights, recipe); 2: eager attention fused
_PROBES = ("اعتماد در روابط عمومی چگونه ساخته می‌شود؟", "PR", "همدلی، عدالت، ثبات و حمایت " * 6)
_TOLERANCE = 1e-4
DRAFTS = "export-"  # prefix of an export's working folder


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


def graph_dir(models_dir: Path, fingerprint: str) -> Path:
    """The folder of one model's graph (outside the model folder, so its fingerprint stays)."""
    return models_dir / "onnx" / f"{fingerprint}-v{EXPORT_VERSION}"


def paths(models_dir: Path, fingerprint: str) -> tuple[Path, Path]:
    """Where the graph and its recipe live."""
    folder = graph_dir(models_dir, fingerprint)
    return folder / "model.onnx", folder / "recipe.json"


def publish(draft: Path, models_dir: Path, fingerprint: str, recipe: Recipe) -> Path:
    """Move a finished graph folder into place (one rename) and drop this model's older graphs."""
    final = graph_dir(models_dir, fingerprint)
    save_recipe(recipe, draft / "recipe.json")
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        shutil.rmtree(final)
    os.replace(draft, final)
    for stale in final.parent.glob(f"{fingerprint}-v*"):  # earlier graphs of this model (~470 MB each)
        if stale != final:
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
    return final


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


def export(model, tokenizer, models_dir: Path, fingerprint: str) -> Recipe:
    """Trace a sentence-transformers model to ONNX, fuse it, check it against the model, then publish.

    ``tokenizer`` is the model's ``FastTokenizer`` (what serving will use).
    """
    recipe = recipe_of(model)
    root = models_dir / "onnx"
    root.mkdir(parents=True, exist_ok=True)
    sweep_abandoned(root)
    with tempfile.TemporaryDirectory(dir=root, prefix=DRAFTS) as tmp:
        draft = Path(tmp) / "graph"
        draft.mkdir()
        traced = _trace(model, Path(tmp) / "traced.onnx")
        os.replace(_fuse(model, traced, Path(tmp) / "fused.onnx"), draft / "model.onnx")
        encoder = OnnxEncoder(draft / "model.onnx", tokenizer, recipe)
        expected = model.encode(
            list(_PROBES),
            normalize_embeddings=recipe.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        worst = float(np.abs(encoder.encode(list(_PROBES)) - expected).max())
        if worst > _TOLERANCE:
            raise NotExportable(f"ONNX output differs by {worst:.2e}")
        del encoder
        publish(draft, models_dir, fingerprint, recipe)
    return recipe


def sweep_abandoned(folder: Path, older_than: float = 3600.0) -> list[Path]:
    """Remove drafts a killed export left behind (~1 GB each); a running export is younger."""
    removed = []
    for draft in folder.glob(f"{DRAFTS}*"):
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


def save_recipe(recipe: Recipe, recipe_path: Path) -> None:
    recipe_path.write_text(json.dumps(asdict(recipe), ensure_ascii=False, indent=1), encoding="utf-8")


class OnnxEncoder:
    """Tokenize → ONNX transformer → pool → normalize; safe to call from many threads.

    ``tokenizer`` is a ``FastTokenizer`` (``batch`` gives padded, cut ids and mask).
    """

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

    def encode(self, texts: Sequence[str], prompt: str = "", batch_size: int = 8) -> np.ndarray:
        """Vectors in input order; batches are formed by length so padding stays small."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.recipe.dimension), np.float32)
        for start in range(0, len(order), batch_size):
            part = order[start : start + batch_size]
            out[part] = self._run([prompt + texts[i] for i in part])
        return out

    def _run(self, texts: list[str]) -> np.ndarray:
        ids, mask = self.tokenizer.batch(texts)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        if self.recipe.pooling == "cls":
            vectors = hidden[:, 0]
        else:
            weights = mask[..., None].astype(np.float32)
            vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        if self.recipe.normalize:
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)
