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
    # The service is what the CLI, the API and the chat page call; it knows none of them.
    ("service", ("assistant.api", "assistant.ui", "assistant.commands", "assistant.cli")),
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


# The ground floor: configuration and the core model know no stage that uses them.
GROUND = ("settings.py", "lexicon.py", "models.py", "errors.py", "registry.py", "query.py")
STAGES = ("assistant.ingest", "assistant.stores", "assistant.retrieval", "assistant.answer",
          "assistant.service", "assistant.api", "assistant.ui", "assistant.commands",
          "assistant.evaluation", "assistant.bench", "assistant.embedders")


@pytest.mark.parametrize("file", GROUND)
def test_the_ground_floor_imports_no_stage(file):
    assert sorted(n for n in imported_names("")[file] if n.startswith(STAGES)) == []


def module_of(file: str) -> str:
    parts = ["assistant", *Path(file).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module → the modules of the package it imports (a `from pkg import mod` counts)."""
    files = imported_names("")
    modules = {module_of(file) for file in files}
    return {module_of(file): {n for n in names if n in modules} - {module_of(file)}
            for file, names in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import loop once, as found by a depth-first walk."""
    found, done = [], set()

    def walk(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in done:
                walk(nxt, [*path, nxt])
        done.add(node)

    for start in sorted(graph):
        if start not in done:
            walk(start, [start])
    return found


def test_no_module_imports_itself_round_a_loop():
    """A package's face (`__init__` handing names on) counts as the package: `from
    assistant.answer import extractive` from answer/backends.py would be a loop."""
    assert cycles(import_graph()) == []


def test_the_loop_check_sees_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
