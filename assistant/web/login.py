"""A password gate in front of a tab's panel: one per protected tab (index: admin; review: trainer)."""

from __future__ import annotations

import gradio as gr

from .service import Service


def login_gate(service: Service, role: str, prefix: str) -> tuple[gr.State, gr.Column]:
    """Render the gate; return the session's granted role and the (hidden) panel to fill.

    The panel shows once the service accepts the password for ``role``; the
    check never sleeps, so queued wrong guesses cannot delay the real user.
    """
    role_state = gr.State("")
    with gr.Column() as gate:
        label = "گذرواژهٔ مدیر / admin password" if role == "admin" else "گذرواژهٔ مدرس / trainer password"
        password = gr.Textbox(label=label, type="password", elem_id=f"{prefix}-password")
        button = gr.Button("ورود / enter", variant="primary", elem_id=f"{prefix}-login")
        status = gr.Markdown(rtl=True, elem_id=f"{prefix}-login-status")
    panel = gr.Column(visible=False)

    def login(typed: str, request: gr.Request):
        host = request.client.host if getattr(request, "client", None) else None
        result = service.login(host, typed or "", role)
        if not result.ok:
            return {status: f"⚠️ {result.message}", password: ""}
        return {
            role_state: result.role,
            status: "",
            password: "",
            gate: gr.Column(visible=False),
            panel: gr.Column(visible=True),
        }

    for trigger in (password.submit, button.click):
        trigger(login, [password], [role_state, status, password, gate, panel], api_visibility="private")
    return role_state, panel
