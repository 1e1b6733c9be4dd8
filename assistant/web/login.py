"""The staff sign-in in the page's header, the tabs it opens, and the events the guard keeps for roles.

Students see the chat and the sources; a trainer's password opens the desk's
tabs (review, dashboard), the admin's opens every tab.  The password opens a
*server-side session* tied to the browser's cookie (``Service.login``); which
tabs show is only the view.  Every event that takes a gate state as an input
is privileged: the ASGI guard refuses it unless the request's session opens
that role (:func:`privileged_events`), and handlers may ask
``Service.role(request)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ..serving.auth import Role
from .service import Service

#: after a login, fetch this (relative, so a root path still works) to take the renamed session cookie now
TAKE_COOKIE_JS = "() => { fetch('pr/session', {credentials: 'same-origin', cache: 'no-store'}); }"
SIGNED_OUT = "از حساب خارج شدید. / Signed out."


@dataclass
class Gate:
    """The header's sign-in: one state per role the desk's events need, and what the page shows."""

    trainer: gr.State  # the granted role, for the review and dashboard tabs' events
    admin: gr.State  # the same, for the index tab's events (refused unless the session is the admin's)
    password: gr.Textbox
    button: gr.Button
    status: gr.Markdown
    form: gr.Column
    signed_in: gr.Column
    who: gr.Markdown
    logout: gr.Button


def _state(need: Role) -> gr.State:
    state = gr.State("")
    state.pr_needs = need  # type: ignore[attr-defined]  # read by privileged_events
    return state


def staff_gate(service: Service) -> Gate:
    """Render the sign-in (an accordion a student can ignore); wire it with :func:`wire_gate`."""
    with gr.Accordion("ورود مدرسان / staff sign-in", open=False, elem_id="pr-staff"):
        with gr.Column() as form, gr.Row():
            password = gr.Textbox(
                label="گذرواژهٔ مدرس یا مدیر / trainer or admin password",
                type="password",
                elem_id="pr-password",
                scale=3,
            )
            button = gr.Button("ورود / sign in", variant="primary", elem_id="pr-login", scale=1)
        status = gr.Markdown(rtl=True, elem_id="pr-login-status")
        with gr.Row(visible=False) as signed_in:
            who = gr.Markdown(rtl=True, elem_id="pr-signed-in")
            logout = gr.Button("خروج / sign out", size="sm", elem_id="pr-logout", scale=0)
    return Gate(
        _state(Role.TRAINER), _state(Role.ADMIN), password, button, status, form, signed_in, who, logout
    )


ROLE_NAMES = {Role.ADMIN: "مدیر / admin", Role.TRAINER: "مدرس / trainer"}


def wire_gate(
    service: Service,
    gate: Gate,
    tabs: gr.Tabs,
    trainer_tabs: list[gr.Tab],
    admin_tabs: list[gr.Tab],
    js: str = "",
) -> None:
    """Signing in shows the tabs the role opens and selects the review tab; signing out hides them
    and goes back to the chat.  ``js`` runs in the page after a sign-in (the desk's keyboard)."""

    def login(typed: str, request: gr.Request):
        result = service.login(request, typed or "", Role.TRAINER.value)  # the admin's opens it too
        if not result.ok or result.role is None:
            return {gate.status: f"⚠️ {result.message}", gate.password: ""}
        is_admin = result.role is Role.ADMIN
        shown = {tab: gr.Tab(visible=True) for tab in trainer_tabs}
        shown.update({tab: gr.Tab(visible=is_admin) for tab in admin_tabs})
        return {
            gate.trainer: result.role.value,
            gate.admin: result.role.value if is_admin else gr.update(),  # a trainer starts no admin event
            gate.status: "",
            gate.password: "",
            gate.form: gr.Column(visible=False),
            gate.signed_in: gr.Row(visible=True),
            gate.who: f"وارد شده‌اید: {ROLE_NAMES[result.role]} / signed in",
            tabs: gr.Tabs(selected="review"),
            **shown,
        }

    def logout(request: gr.Request):
        service.logout(request)
        # the role states are left as they were: the session is gone, so their events are refused anyway
        hidden = {tab: gr.Tab(visible=False) for tab in [*trainer_tabs, *admin_tabs]}
        return {
            gate.status: SIGNED_OUT,
            gate.form: gr.Column(visible=True),
            gate.signed_in: gr.Row(visible=False),
            tabs: gr.Tabs(selected="chat"),
            **hidden,
        }

    every_tab = [*trainer_tabs, *admin_tabs]
    outputs = [gate.trainer, gate.admin, gate.status, gate.password, gate.form, gate.signed_in, gate.who]
    after = "() => { (" + TAKE_COOKIE_JS + ")(); " + (f"({js})();" if js else "") + " }"
    for trigger in (gate.password.submit, gate.button.click):
        trigger(login, [gate.password], [*outputs, tabs, *every_tab], api_visibility="private").then(
            None, None, None, js=after, api_visibility="private"
        )
    gate.logout.click(
        logout, None, [gate.status, gate.form, gate.signed_in, tabs, *every_tab], api_visibility="private"
    )


def privileged_events(blocks: gr.Blocks) -> dict[int | str, Role]:
    """Every event of ``blocks`` that takes a gate's state as an input → the role it needs.

    Keyed by ``fn_index`` and by API name (Gradio runs an event by either);
    ``RequestGuard`` refuses them without a session that opens the role.
    """
    found: dict[int | str, Role] = {}
    for index, fn in blocks.fns.items():
        needs = [getattr(block, "pr_needs", None) for block in fn.inputs]
        need = next((n for n in needs if n is not None), None)
        if need is None:
            continue
        found[index] = need
        if fn.api_name:
            found[str(fn.api_name)] = need
    return found
