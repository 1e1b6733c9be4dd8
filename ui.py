"""The web app's entry point (the design card's ``ui.py``).

``demo`` is built at import, the Gradio way, so ``gradio ui.py`` hot-reloads
it; building it loads no model.  ``python ui.py`` (or ``assistant serve``)
prepares the model and index, then serves.  Everything lives in
:mod:`assistant.web`: this file only puts it on the page.

The named API endpoint ``/ask`` returns ``Answer.to_dict()``::

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("شفافیت به چه معناست؟", api_name="/ask")
"""

from __future__ import annotations

from assistant.core.errors import AssistantError
from assistant.core.settings import Settings
from assistant.web import build_demo, serve

SETTINGS = Settings.from_env()
demo = build_demo(SETTINGS)

if __name__ == "__main__":
    try:
        serve(settings=SETTINGS, app=demo)
    except AssistantError as exc:  # e.g. an index built by another model: say so, no traceback
        raise SystemExit(str(exc)) from None
