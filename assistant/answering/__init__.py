"""Answering: retrieval, the extractive and LLM answerers, citations, follow-ups, typing fixes.

``retrieve`` and ``fusion`` (hybrid scores; ``chains`` its LangChain face),
``base`` (Evidence, the Answerer protocols), ``units`` (what a passage may
quote), ``question`` / ``rank`` / ``choose`` / ``span`` (what is asked, which
unit answers it, what rides along, the phrase that answers), ``answerable``
and ``lexicon`` (does the quote answer?), ``spoken`` (spoken forms, typos), ``meta``
(who spoke, when), ``extractive`` (the default answerer), ``generate`` (a
chat model held to its citations), ``cite`` (exact spans, numbered),
``conversation`` (follow-ups) and ``rewrite`` (Finglish, layout, English).
Imports core, text and indexing; never the model package (an Encoder is enough).
"""
