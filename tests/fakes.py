"""Fakes for pure-logic tests: stand-ins that satisfy the project's protocols, named as fakes.

``HashEncoder`` satisfies ``assistant.core.protocols.Encoder`` without a model:
each normalized word is hashed into a signed bucket of a small vector, so two
texts that share words are near and the vectors are the same in every process.
It measures nothing about quality; tests of what a user sees run the real e5.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from assistant.text.normalize import normalize
from assistant.text.tokens import words


class HashEncoder:
    """A deterministic bag-of-words hash embedder (a fake ``Encoder``): instant, no weights."""

    def __init__(self, dimension: int = 64, name: str = "fake-hash"):
        self.name = name
        self.fingerprint = f"{name}-{dimension}-v1"
        self.dimension = dimension

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Four characters a token, plus the two special tokens: about what e5 counts for Persian."""
        return [-(-len(t) // 4) + 2 for t in texts]

    def embed(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), np.float32)
        for row, text in enumerate(texts):
            for word in words(normalize(text)) or ["∅"]:
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dimension
                out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm == 0:
                out[row, 0] = norm = 1.0
            out[row] /= norm
        return out
