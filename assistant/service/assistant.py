"""The one typed entry point the CLI, the HTTP API and the chat page all call.

An `Assistant` holds the settings and the opened index. The index is loaded once per
process and shared read-only; ingest and delete build a new index aside, swap it in
atomically, and then point this object at it. A query that already holds the old
store finishes on it. Every `reload_interval_s` one request also asks the backend for
the live corpus version (one small read or RPC) and reopens when another process or
replica changed it; the other requests meanwhile keep answering from the old one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.answer import pipeline as answers
from assistant.compare import Comparison, compare
from assistant.errors import UnknownClauseError, UnknownDocumentError
from assistant.ingest.ocr import check_engine
from assistant.ingest.pipeline import IngestReport
from assistant.lexicon import load_synonyms, normalise_clause_ref, normalise_doc_number
from assistant.models import Answer, Clause, Document, ScoredClause, SearchFilters
from assistant.query import Query, analyse
from assistant.retrieval import retrieve, retrieve_parts
from assistant.service.ingest import ingest_into_index
from assistant.service.request_rules import Caller, RequestRules
from assistant.settings import Settings, get_settings
from assistant.stores.backends import corpus_version, open_index, remove_documents

if TYPE_CHECKING:
    from assistant.stores.base import IndexReader

log = logging.getLogger(__name__)


class Assistant:
    """Answers questions over one index.

    >>> bot = Assistant(Settings(index_dir=Path("index")))
    >>> bot.ask("四川省在哪些城市开展三医联动改革试点?").citations[0].rendered
    '〔川办函〔2021〕56号 一、（一）〕'
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        check_engine(self.settings.ingest.ocr)
        self._store: IndexReader | None = None
        self._lock = threading.Lock()
        self._watch = threading.Lock()  # one request at a time checks for a newer corpus
        self._next_check = 0.0
        self.rules = RequestRules(self.settings)  # limits, rate limit, audit: every caller

    # --- the index
    @property
    def store(self) -> IndexReader:
        store = self._store
        if store is None:
            with self._lock:
                if self._store is None:
                    self._store = open_index(self.settings)
                    self._next_check = time.monotonic() + self.settings.store.reload_interval_s
                store = self._store
        elif self.settings.store.reload_interval_s > 0 and time.monotonic() >= self._next_check:
            store = self._follow_changes(store)
        return store

    def _follow_changes(self, store: IndexReader) -> IndexReader:
        """Reopen when the live corpus is no longer the one held (changed elsewhere)."""
        if not self._watch.acquire(blocking=False):
            return store  # another request is checking; answer from what we hold
        try:
            self._next_check = time.monotonic() + self.settings.store.reload_interval_s
            live = corpus_version(self.settings)
            if live is not None and live != store.version:
                self.reload()
                log.info("corpus changed elsewhere: now serving %s", live)
        except Exception as err:  # noqa: BLE001 - a failed check must not fail the request
            log.warning("could not check for a newer corpus: %s", err)
        finally:
            self._watch.release()
        return self._store or store

    def reload(self) -> None:
        """Point at the live index (after another process or call rebuilt it)."""
        fresh = open_index(self.settings)
        with self._lock:
            self._store = fresh

    # --- documents
    def documents(self) -> list[Document]:
        return list(self.store.documents)

    def document(self, ref: str) -> Document:
        return resolve_document(self.store.documents, ref)

    def clause(self, doc_ref: str, clause_ref: str) -> Clause:
        return resolve_clause(self.document(doc_ref), clause_ref)

    def compare(self, old_ref: str, new_ref: str) -> Comparison:
        """Two versions aligned article by article (older first, whichever order given)."""
        return compare(self.document(old_ref), self.document(new_ref))

    # --- questions (every one passes `self.rules`: limits, rate limit, audit)
    def search(self, question: str, k: int | None = None, filters: SearchFilters | None = None,
               *, caller: Caller | None = None) -> list[ScoredClause]:
        """The clauses an ask of the same question and filters answers from, in that order."""
        question = self.rules.check_question(question)
        k = self.rules.check_top_k(k)
        self.rules.admit_caller(caller or Caller.internal())
        query = analyse_question(question, self.settings, store=self.store)
        return retrieve(query, self.store, self.settings, k=k, filters=filters)

    def ask(self, question: str, *, caller: Caller | None = None, **options) -> Answer:
        """Answer with citations. Options: backend, filters, top_k, history."""
        caller = caller or Caller.internal()
        question, started = self._admit(question, caller, options), time.perf_counter()
        answer = answer_question(question, self.store, self.settings, **options)
        self.rules.record(caller, answer, started)
        return answer

    def ask_stream(self, question: str, *, caller: Caller | None = None,
                   **options) -> Iterator[str | Answer]:
        """Answer text as it is produced (str chunks), then the final `Answer`.

        The request rules run now, so a refused request raises here, before any chunk.
        """
        caller = caller or Caller.internal()
        question, started = self._admit(question, caller, options), time.perf_counter()
        return self._audited(caller, started,
                             stream_answer(question, self.store, self.settings, **options))

    def _admit(self, question: str, caller: Caller, options: dict) -> str:
        """The one check of a question and its options, whoever asks (API, chat page, CLI)."""
        question = self.rules.check_question(question)
        if options.get("history"):
            options["history"] = self.rules.check_history(options["history"])
        options["top_k"] = self.rules.check_top_k(options.get("top_k"))
        self.rules.admit_caller(caller)
        return question

    def _audited(self, caller: Caller, started: float,
                 items: Iterator[str | Answer]) -> Iterator[str | Answer]:
        for item in items:
            if isinstance(item, Answer):
                self.rules.record(caller, item, started)
            yield item

    # --- changing the corpus (atomic: build aside, swap, then reload)
    def ingest(self, paths: Sequence[Path]) -> IngestReport:
        report = ingest_into_index(paths, self.settings)
        self.reload()
        return report

    def delete(self, doc_id: str) -> None:
        document = self.document(doc_id)
        remove_documents([document.doc_id], self.settings)
        self.reload()


def analyse_question(question: str, settings: Settings, history: list[dict] | None = None,
                     store: IndexReader | None = None) -> Query:
    """The one analysis of a question (a follow-up rewritten against `history`); with
    `store`, the places its documents name count as places (新会区)."""
    known = store.places if store is not None else frozenset()
    return analyse(question, history, load_synonyms(settings.retrieval.synonyms), known)


def stream_answer(question: str, store: IndexReader, settings: Settings, *, backend=None,
                  filters: SearchFilters | None = None, top_k: int | None = None,
                  history: list[dict] | None = None) -> Iterator[str | Answer]:
    """analyse → retrieve → answer over one opened index: chunks, then the `Answer`.
    Callers have applied the request rules (`Assistant.ask` does)."""
    started = time.perf_counter()
    query = analyse_question(question, settings, history, store)
    found = retrieve(query, store, settings, k=top_k, filters=filters)
    parts = retrieve_parts(query, store, settings, k=top_k, filters=filters)
    yield from answers.stream_answer(query, found, store, settings, backend=backend,
                                     filters=filters, history=history, started=started,
                                     parts=parts)


def answer_question(question: str, store: IndexReader, settings: Settings,
                    **options) -> Answer:
    """`stream_answer`'s final `Answer`."""
    *_, final = stream_answer(question, store, settings, **options)
    return final


def resolve_document(documents: Sequence[Document], ref: str) -> Document:
    """Find a document by doc_id, 文号 (any bracket style), version (《title》（2024年修订）) or
    title (exact, then substring); a title held in several versions names the current one."""
    ref = ref.strip()
    number = normalise_doc_number(ref)
    for matches in (
        lambda d: d.doc_id == ref,
        lambda d: number is not None and d.number == number,
        lambda d: ref in (d.version_ref, f"{d.title}{d.version_label or ''}"),
        lambda d: d.title == ref,
        lambda d: d.title == ref and d.superseded_by is None,
        lambda d: ref in d.title,
    ):
        found = [d for d in documents if matches(d)]
        if len(found) == 1:
            return found[0]
    raise UnknownDocumentError(ref)


def resolve_clause(document: Document, ref: str) -> Clause:
    """Find a clause by clause_id or label ("一、（一）", "(一)", "附件一、"…)."""
    for clause in document.clauses:
        if clause.clause_id == ref:
            return clause
    wanted = normalise_clause_ref(ref)
    exact = [c for c in document.clauses if c.label == wanted]
    if exact:
        return exact[0]
    # A bare last label ("（十四）") is enough when it names one clause.
    tail = [c for c in document.clauses if c.path and c.path[-1] == wanted]
    if len(tail) == 1:
        return tail[0]
    raise UnknownClauseError(document.short_ref, ref)
