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
        self._mode: tuple | None = None  # what the tokenizer is set up for: ("count",) or ("batch", length)

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

    def _set_up(self, mode: tuple) -> Tokenizer:
        """The tokenizer, set up for ``mode`` (call with the lock held): changed only when the
        mode changes, so a server, which only batches, sets it up once."""
        if self._tok is None:
            self._tok = self._load()
        tok = self._tok
        if mode != self._mode:
            if mode[0] == "count":
                tok.no_truncation()
                tok.no_padding()
            else:
                pad_id = tok.token_to_id(self.pad_token)
                if pad_id is None:
                    raise NoFastTokenizer(f"pad token {self.pad_token!r} is not in the vocabulary")
                tok.enable_truncation(mode[1])
                tok.enable_padding(pad_id=pad_id, pad_token=self.pad_token)
            self._mode = mode
        return tok

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text becomes, special tokens included, nothing cut."""
        with self._lock:
            encoded = self._set_up(("count",)).encode_batch(list(texts), add_special_tokens=True)
        return [len(e.ids) for e in encoded]

    def batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(input_ids, attention_mask), int64, padded to the longest text, cut at ``max_length``."""
        with self._lock:
            tok = self._set_up(("batch", self.max_length))
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
