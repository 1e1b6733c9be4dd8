"""Persian text as every stage sees it: one normalizer, BM25 terms, sentence-aware chunks.

Pure functions, no model: ``normalize`` (documents and questions alike,
versioned), ``tokens`` (words, stopwords, stems for BM25), ``chunk``
(sentences and token-bounded chunks with exact offsets).  Imports core only.
"""
