"""``python -m assistant.indexing build|update``: one build, its progress as JSON lines on stdout.

The entry the web app's background build starts (``jobs.start_build``);
``assistant index update --progress json`` runs the same function.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ..core.settings import Settings
from .jobs import run_child_build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.indexing", description=__doc__)
    parser.add_argument("mode", choices=("build", "update"), help="build: embed every chunk anew")
    parser.add_argument("--corpus", default=None, help="corpus folder (default: ASSISTANT_CORPUS or corpus/)")
    parser.add_argument("--index", default=None, help="index folder (default: ASSISTANT_INDEX or index/)")
    parser.add_argument("--embed-model", default=None, help="sentence-transformers name or path")
    parser.add_argument("--nice", type=int, default=0, choices=range(20), metavar="0-19")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.nice:
        os.nice(args.nice)  # a build beside a running chat: the chat's questions go first
    settings = Settings.from_env(corpus_dir=args.corpus, index_dir=args.index, embed_model=args.embed_model)
    return run_child_build(settings, full=args.mode == "build")


if __name__ == "__main__":
    sys.exit(main())
