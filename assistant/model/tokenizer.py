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
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer


class NoFastTokenizer(Exception):
    """The model folder has no ``tokenizer.json`` (a slow, Python-only tokenizer)."""


class FastTokenizer:
    """Texts → ``input_ids`` and ``attention_mask`` arrays, or token counts; thread-safe.

    One Rust tokenizer, read when first used (the vocabulary costs most of a
    second: a first start both counts and batches) and set up for each call
    under a lock: cut and padded to batch, neither to count.
    """

    def __init__(self, load: Callable[[], Tokenizer], pad_token: str = "<pad>", max_length: int = 512):
        self._load = load
        self.pad_token = pad_token
        self.max_length = max_length
        self._lock = threading.Lock()
        self._tok: Tokenizer | None = None
        self._pad_id: int | None = None

    @classmethod
    def from_folder(cls, folder: Path, max_length: int = 512) -> FastTokenizer:
        """A model folder's ``tokenizer.json``, with the pad token its config names."""
        from tokenizers import Tokenizer

        path = Path(folder) / "tokenizer.json"
        if not path.is_file():
            raise NoFastTokenizer(f"no tokenizer.json in {folder}")
        return cls(lambda: Tokenizer.from_file(str(path)), _pad_token(Path(folder)), max_length)

    @classmethod
    def from_tokenizer(cls, tokenizer: Tokenizer, pad_token: str = "<pad>", max_length: int = 512):
        """A tokenizer built in memory (the model's conversion)."""
        from tokenizers import Tokenizer

        text = tokenizer.to_str()
        return cls(lambda: Tokenizer.from_str(text), pad_token, max_length)

    def _loaded(self) -> Tokenizer:
        """The tokenizer (call with the lock held)."""
        if self._tok is None:
            self._tok = self._load()
        return self._tok

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text becomes, special tokens included, nothing cut."""
        with self._lock:
            tok = self._loaded()
            tok.no_truncation()
            tok.no_padding()
            encoded = tok.encode_batch(list(texts), add_special_tokens=True)
        return [len(e.ids) for e in encoded]

    def batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(input_ids, attention_mask), int64, padded to the longest text, cut at ``max_length``."""
        with self._lock:
            tok = self._loaded()
            if self._pad_id is None:
                self._pad_id = tok.token_to_id(self.pad_token)
                if self._pad_id is None:
                    raise NoFastTokenizer(f"pad token {self.pad_token!r} is not in the vocabulary")
            tok.enable_truncation(self.max_length)
            tok.enable_padding(pad_id=self._pad_id, pad_token=self.pad_token)
            encoded = tok.encode_batch(list(texts), add_special_tokens=True)
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
