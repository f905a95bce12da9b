"""Imports run one way (docs/architecture.md): read from the source with `ast`, every import
of a package checked against the packages it must not reach (in-function imports too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"


def imported_names(folder: str) -> dict[str, set[str]]:
    """file → the modules it imports and the `module.name`s it takes from them."""
    found: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
        found[str(path.relative_to(PACKAGE))] = names
    return found


def reaching(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{file} imports {name}" for file, names in imported_names(folder).items()
            for name in sorted(names) if name.startswith(forbidden)]


@pytest.mark.parametrize("folder, forbidden", [
    # The index stores know nothing of how they are searched or answered from.
    ("stores", ("assistant.retrieval", "assistant.answer", "assistant.service", "assistant.api")),
    # Ingest stops at Documents: the service writes them into a store.
    ("ingest", ("assistant.stores", "assistant.retrieval", "assistant.answer",
                "assistant.service")),
    # The answer stage receives scored clauses; it never retrieves or opens a store.
    ("answer", ("assistant.stores", "assistant.retrieval.hybrid", "assistant.retrieval.pipeline",
                "assistant.retrieval.rerankers", "assistant.retrieval.retrieve",
                "assistant.service")),
    # Retrieval reads through IndexReader; nothing above it.
    ("retrieval", ("assistant.answer", "assistant.service", "assistant.api", "assistant.ui")),
])
def test_a_package_does_not_reach_up(folder, forbidden):
    assert reaching(folder, forbidden) == []


def test_the_check_sees_imports():
    """The walker finds what is there (a broken walker would pass every test above)."""
    answer = imported_names("answer")["answer/pipeline.py"]
    assert "assistant.retrieval.documents.named_documents" in answer
    assert reaching("retrieval", ("assistant.stores.base",))
