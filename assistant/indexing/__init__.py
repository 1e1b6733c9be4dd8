"""Building the index and keeping it served: ``python -m assistant.indexing`` runs a build.

Owns the index folder (``layout``), building and updating it (``build``),
FAISS and BM25 (``dense``, ``sparse``), every document version ever indexed
(``versions``), builds in a child process with typed progress (``jobs``,
``progress``) and noticing a new build (``watch``).  Imports core, text,
ingest and model only.
"""

from .build import build_index, ensure_index
from .jobs import BuildJob, start_build
from .layout import (
    BuildFailed,
    Index,
    IndexMismatch,
    IndexMissing,
    IndexProblem,
    current_build,
    index_info,
    load_index,
    versions_dir,
)
from .progress import BuildDone, BuildError, BuildEvent, BuildProgress
from .watch import IndexWatcher

__all__ = [
    "BuildDone",
    "BuildError",
    "BuildEvent",
    "BuildFailed",
    "BuildJob",
    "BuildProgress",
    "Index",
    "IndexMismatch",
    "IndexMissing",
    "IndexProblem",
    "IndexWatcher",
    "build_index",
    "current_build",
    "ensure_index",
    "index_info",
    "load_index",
    "start_build",
    "versions_dir",
]
