"""Which backend answers: the built-in backends registered, one chosen by name or settings.

The built-in modules are imported here, not in `backends.py`, because each of them imports
`backends.py` to register itself on `BACKENDS`.
"""

from __future__ import annotations

from assistant.answer import extractive, langchain_backend, openai_backend  # noqa: F401 (register)
from assistant.answer.backends import BACKENDS, LLMBackend
from assistant.errors import BackendError
from assistant.settings import Settings


def get_backend(backend: str | LLMBackend | None, settings: Settings) -> LLMBackend:
    """A backend instance from a registered name, an instance, or the settings' default."""
    if backend is None or isinstance(backend, str):
        return BACKENDS.get(backend or settings.answer.backend)(settings)
    if isinstance(backend, LLMBackend):
        return backend
    raise BackendError(f"not a backend: {backend!r}")


# Settings that say an OpenAI-compatible server was set up for this site. Without one the
# backend can be built (its URL has a default) but every answer would fail over to
# extractive: it is not offered.
_OPENAI_CONFIGURED = ("openai_base_url", "openai_api_key", "openai_model")


def is_configured(name: str, settings: Settings) -> bool:
    """Whether backend `name` was set up here: the default backend always is; `openai` once
    its server is configured (URL, key or model set); any other once it can be built."""
    if name == settings.answer.backend or name == "extractive":
        return True
    if name == "openai":
        return bool(settings.answer.model_fields_set & set(_OPENAI_CONFIGURED))
    try:
        get_backend(name, settings)
    except BackendError:
        return False
    return True
