"""Gradio's per-session state: built lazily (the same configs as Gradio's own) and dropped when idle."""

from __future__ import annotations

import datetime

import gradio as gr
import pytest
from gradio.state_holder import SessionState, StateHolder

from assistant.core.settings import Settings
from assistant.web import gradio_state
from assistant.web.app import build_demo


@pytest.fixture(scope="module")
def demo():
    gradio_state.lazy_session_configs()
    return build_demo(Settings(admin_password="a", trainer_password="t"))


def _eager(blocks) -> SessionState:
    state = SessionState.__new__(SessionState)
    gradio_state._original_init(state, blocks)
    return state


def _by_id(state: SessionState) -> dict:
    """The session's component configs (what a deep link is built from), by component id."""
    configs = (
        state.components if hasattr(state, "_lazy_ids") else gradio_state._original_components.fget(state)
    )
    return {c["id"]: c for c in configs}


def test_lazy_sessions_give_gradios_own_configs(demo):
    eager, lazy = _eager(demo), SessionState(demo)
    assert lazy.config_values == {}  # nothing computed for a session nobody looks at
    assert _by_id(lazy) == _by_id(eager)  # a deep link would see the very same configs
    # a button some handler updates (Gradio keeps per-session copies only of components events write)
    button = next(
        k for k, b in demo.blocks.items() if isinstance(b, gr.Button) and "pr-chip" in b.elem_classes
    )
    for state in (eager, lazy):  # what Gradio does with a handler's component update
        state[button] = gr.Button(value="نو", visible=False)
    assert _by_id(lazy)[button] == _by_id(eager)[button]
    assert _by_id(lazy)[button]["props"]["visible"] is False


def test_a_new_session_is_cheap(demo, monkeypatch):
    """A new session computes no component config (Gradio computes them all: 40-160 ms on the event loop)."""
    computed = []
    config_for_block = type(demo.default_config).config_for_block

    def counted(*args, **kwargs):
        computed.append(args[0])
        return config_for_block(*args, **kwargs)

    monkeypatch.setattr(type(demo.default_config), "config_for_block", staticmethod(counted))
    states = [SessionState(demo) for _ in range(200)]
    assert computed == []
    assert list(states[0].components) and computed  # computed on first use, the same as Gradio's


def test_idle_sessions_are_dropped_and_busy_ones_kept(demo):
    holder = StateHolder()
    holder.set_blocks(demo)
    for n in range(5):
        holder[f"s{n}"]
    long_ago = datetime.datetime.now() - datetime.timedelta(seconds=120)
    for n in range(3):
        holder.time_last_used[f"s{n}"] = long_ago
    assert gradio_state.drop_idle_sessions(demo, idle_s=60) == 3
    assert sorted(holder.session_data) == ["s3", "s4"] and sorted(holder.time_last_used) == ["s3", "s4"]
    assert gradio_state.drop_idle_sessions(demo, idle_s=60) == 0
