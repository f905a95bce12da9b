"""The HTTP API: `create_app(settings, assistant)` in assistant/api/app.py."""
