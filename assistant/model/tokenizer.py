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
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer


class NoFastTokenizer(Exception):
    """The model folder has no ``tokenizer.json`` (a slow, Python-only tokenizer)."""


class FastTokenizer:
    """Texts → ``input_ids`` and ``attention_mask`` arrays, or token counts; thread-safe.

    Two copies of the Rust tokenizer, each configured once (one cuts and pads,
    one counts) and each read only when first used: a server only batches, a
    build mostly counts, and reading the vocabulary costs a few tenths of a second.
    """

    def __init__(self, load: Callable[[], Tokenizer], pad_token: str = "<pad>", max_length: int = 512):
        self._load = load
        self.pad_token = pad_token
        self.max_length = max_length
        self._lock = threading.Lock()

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

    @cached_property
    def _counting(self) -> Tokenizer:
        with self._lock:
            tok = self._load()
            tok.no_truncation()
            tok.no_padding()
            return tok

    @cached_property
    def _batching(self) -> Tokenizer:
        with self._lock:
            tok = self._load()
            pad_id = tok.token_to_id(self.pad_token)
            if pad_id is None:
                raise NoFastTokenizer(f"pad token {self.pad_token!r} is not in the vocabulary")
            tok.enable_truncation(self.max_length)
            tok.enable_padding(pad_id=pad_id, pad_token=self.pad_token)
            return tok

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
