"""Reading files into Documents: formats, charsets, transcripts, limits, the parser's child process.

``load`` (a file or a corpus folder → Documents, text kept verbatim so
offsets stay exact), ``formats`` (PDF, DOCX, PPTX, HTML, subtitles),
``charset``, ``transcript``, ``parse_limits`` (zip checks before any parser),
``isolate`` (untrusted files parsed in a capped child process) and
``upload`` (saving an upload into the corpus).  Imports core and text.
"""
