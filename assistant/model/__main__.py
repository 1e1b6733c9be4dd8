"""``python -m assistant.model MODELS_DIR``: write the bundled model's serving files there.

A server's first start runs this in a child process (``install.install_serving_in_child``),
so the conversion has a core of its own while the web app imports.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .install import install_serving


def main() -> None:
    served = install_serving(Path(sys.argv[1]), log=lambda line: print(line, file=sys.stderr, flush=True))
    print(served.fingerprint)


if __name__ == "__main__":
    main()
