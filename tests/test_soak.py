"""A short soak of the real server (bench/soak.py with smaller numbers): memory comes back after the expiry.

The full one (2,000 sessions, 500 questions, 60 s idle) is ``python bench/soak.py``; its figures are in
the README.  Here: 400 new sessions and 60 questions, then idle past a 15 s state expiry.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

pytestmark = pytest.mark.server


def test_sessions_and_questions_leave_no_memory_behind_once_idle(home, embedder):
    from soak import soak

    embedder.embed(["گرم کردن"], kind="query")  # the model and its graph made here, once, as on any day
    result = soak(home, ROOT, free_port(), sessions=400, questions=60, idle_s=15)
    print(result)
    assert result["sessions"] == {"HTTP 200": 400} and result["questions"] == {"complete": 60}
    assert result["sessions_dropped"] >= 400
    assert result["growth_after_idle_mb"] < 50
