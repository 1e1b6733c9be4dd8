"""Serving a class safely, without Gradio: passwords and lockouts, per-client limits, the ASGI guard.

``auth`` (scrypt hashes, back-off and lockout), ``limits`` (token bucket and
in-flight cap per client), ``middleware`` (body cap and 429s in front of the
app).  Imports core and store.
"""
