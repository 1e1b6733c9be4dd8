"""A short soak of the real server (bench/soak.py with smaller numbers): memory comes back after the expiry.

The full one (2,000 sessions, 500 questions, 60 s idle) is ``python bench/soak.py``; its figures are in
the README.  Here: 120 new sessions and 12 questions, then idle past a 6 s state expiry.
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
    result = soak(home, ROOT, free_port(), sessions=120, questions=12, idle_s=6)
    print(result)
    assert result["sessions"] == {"HTTP 200": 120} and result["questions"] == {"complete": 12}
    assert result["sessions_dropped"] >= 120
    assert result["growth_after_idle_mb"] < 50
