"""Prompt templates are files in settings.paths.prompts_dir with named `{placeholders}`."""

from __future__ import annotations

import string
from pathlib import Path

from assistant.errors import AssistantError

SYSTEM = "answer_system.txt"
USER = "answer_user.txt"

# What the code fills in for each template; a test checks the files agree.
FILLED = {SYSTEM: frozenset(), USER: frozenset({"context", "question"})}


def load_template(prompts_dir: Path, name: str) -> str:
    path = Path(prompts_dir) / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise AssistantError(f"prompt template {path} cannot be read: {err.strerror}") from None


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def render(prompts_dir: Path, name: str, **values: str) -> str:
    """The template filled with `values`; every placeholder must be given."""
    template = load_template(prompts_dir, name)
    missing = placeholders(template) - set(values)
    if missing:
        raise AssistantError(f"prompt {name} needs values for {sorted(missing)}")
    return template.format_map(values)
