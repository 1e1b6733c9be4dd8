"""The sign-in gate in front of privileged panels, and the events the guard keeps for signed-in roles.

One gate per protected tab today (index: admin; review: trainer), placeable
anywhere (a header) by the page.  The password opens a *server-side session*
tied to the browser's cookie (``Service.login``); the panel is only the view.
Every event that takes the gate's state as an input is privileged: the ASGI
guard refuses it unless the request's session opens that role
(:func:`privileged_events`), and handlers may ask ``Service.role(request)``.
"""

from __future__ import annotations

import gradio as gr

from ..serving.auth import Role
from .service import Service

#: after a login, fetch this (relative, so a root path still works) to take the renamed session cookie now
TAKE_COOKIE_JS = "() => { fetch('pr/session', {credentials: 'same-origin', cache: 'no-store'}); }"
SIGNED_OUT = "از حساب خارج شدید. / Signed out."


def login_gate(service: Service, role: str, prefix: str) -> tuple[gr.State, gr.Column]:
    """Render the gate; return the session's granted role (for the view) and the hidden panel to fill.

    The panel shows once the service accepts the password for ``role``; the
    check never sleeps, so queued wrong guesses cannot delay the real user.
    The panel starts with a sign-out button.
    """
    role_state = gr.State("")
    role_state.pr_needs = Role(role)  # type: ignore[attr-defined]  # read by privileged_events
    with gr.Column() as gate:
        label = "گذرواژهٔ مدیر / admin password" if role == "admin" else "گذرواژهٔ مدرس / trainer password"
        password = gr.Textbox(label=label, type="password", elem_id=f"{prefix}-password")
        button = gr.Button("ورود / enter", variant="primary", elem_id=f"{prefix}-login")
        status = gr.Markdown(rtl=True, elem_id=f"{prefix}-login-status")
    with gr.Column(visible=False) as panel:
        logout_btn = gr.Button("خروج / sign out", size="sm", elem_id=f"{prefix}-logout")

    def login(typed: str, request: gr.Request):
        result = service.login(request, typed or "", role)
        if not result.ok:
            return {status: f"⚠️ {result.message}", password: ""}
        return {
            role_state: result.role,
            status: "",
            password: "",
            gate: gr.Column(visible=False),
            panel: gr.Column(visible=True),
        }

    def logout(request: gr.Request):
        service.logout(request)
        # role_state is left as it was: the session is gone, so its events are refused anyway
        return {status: SIGNED_OUT, gate: gr.Column(visible=True), panel: gr.Column(visible=False)}

    outputs = [role_state, status, password, gate, panel]
    for trigger in (password.submit, button.click):
        trigger(login, [password], outputs, api_visibility="private").then(
            None, None, None, js=TAKE_COOKIE_JS, api_visibility="private"
        )
    logout_btn.click(logout, None, [status, gate, panel], api_visibility="private")
    return role_state, panel


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
