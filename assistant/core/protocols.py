"""The interfaces stages meet at, declared instead of guessed.

An :class:`Encoder` is what indexing and answering need of an embedding
model: the real e5 (``assistant.model.Embedder``) and the tests' hash fake
both satisfy it, so pure logic runs without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import numpy as np

Kind = Literal["query", "passage"]


@runtime_checkable
class Encoder(Protocol):
    """Text → L2-normalized float32 vectors; ``fingerprint`` changes when the vectors would."""

    @property
    def name(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens the model sees for each (normalized) text, special tokens included."""
        ...

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        """One row per text, in order; ``kind`` picks e5's "query: " / "passage: " prompt."""
        ...
