"""A sentence-transformers model's fast tokenizer, read with the ``tokenizers`` library alone.

Why: loading it through transformers imports transformers and PyTorch (four
seconds and more on this machine) for a job the Rust tokenizer does by
itself.  The result is the same as transformers' fast tokenizer called with
``padding=True, truncation=True, max_length=n`` (checked in tests/test_model.py):
special tokens added, truncation that keeps them, right padding with the
model's pad token.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class NoFastTokenizer(Exception):
    """The model folder has no ``tokenizer.json`` (a slow, Python-only tokenizer)."""


class FastTokenizer:
    """Texts → ``input_ids`` and ``attention_mask`` arrays, or token counts; thread-safe."""

    def __init__(self, folder: Path, max_length: int = 512):
        from tokenizers import Tokenizer

        path = Path(folder) / "tokenizer.json"
        if not path.is_file():
            raise NoFastTokenizer(f"no tokenizer.json in {folder}")
        self.max_length = max_length
        self._counting = Tokenizer.from_file(str(path))
        self._counting.no_truncation()
        self._counting.no_padding()
        pad_token = _pad_token(Path(folder))
        pad_id = self._counting.token_to_id(pad_token)
        if pad_id is None:
            raise NoFastTokenizer(f"pad token {pad_token!r} is not in the vocabulary")
        self._batching = Tokenizer.from_file(str(path))
        self._batching.enable_truncation(max_length)
        self._batching.enable_padding(pad_id=pad_id, pad_token=pad_token)

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text becomes, special tokens included, nothing cut."""
        return [len(e.ids) for e in self._counting.encode_batch(list(texts), add_special_tokens=True)]

    def batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(input_ids, attention_mask), int64, padded to the longest text, cut at ``max_length``."""
        encoded = self._batching.encode_batch(list(texts), add_special_tokens=True)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        return ids, mask


def _pad_token(folder: Path) -> str:
    """The pad token a transformers tokenizer of this folder would use (``<pad>`` when unsaid)."""
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        path = folder / name
        if path.is_file():
            value = json.loads(path.read_text(encoding="utf-8")).get("pad_token")
            if isinstance(value, dict):
                value = value.get("content")
            if isinstance(value, str) and value:
                return value
    return "<pad>"
