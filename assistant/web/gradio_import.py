"""Importing Gradio without its type-stub writer: 3.3 s → 1.7 s, on every server's start.

At import, Gradio's component metaclass (``gradio.component_meta.ComponentMeta``)
re-reads and ``ast``-parses its own source file for each of its ~50 component
classes to write or compare ``.pyi`` stubs beside it: a development aid for
Gradio's own type hints, with no effect on what the app does (in a read-only
install it is skipped already).  This hook replaces that one function with a
no-op as ``gradio.component_meta`` loads; anything unexpected leaves Gradio as it is.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys

_MODULE = "gradio.component_meta"


class _SkipStubWriter(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != _MODULE:
            return None
        sys.meta_path.remove(self)  # once; find the real module without this finder
        spec = importlib.util.find_spec(name)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module) -> None:
            run(module)
            if callable(getattr(module, "create_or_modify_pyi", None)):
                module.create_or_modify_pyi = _skip

        loader.exec_module = exec_module
        return spec


def _skip(*args, **kwargs) -> None:
    return None


def install() -> None:
    """Before Gradio is imported (``assistant.web`` does it first thing)."""
    if _MODULE not in sys.modules and not any(isinstance(f, _SkipStubWriter) for f in sys.meta_path):
        sys.meta_path.insert(0, _SkipStubWriter())
