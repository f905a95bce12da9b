"""One router per resource; `assistant.api.app` includes them all."""
