"""retrieve → gate (abstain?) → build context → generate → resolve markers → verify → Answer.

`stream_answer` yields the answer text in chunks as the backend produces it, then the
final `Answer` (whose `answer` text is authoritative: markers pointing at no block are
removed from it). `answer_question` is the same run, returning only the `Answer`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from assistant.answer import citations as cites
from assistant.answer import gate, prompts
from assistant.answer.backends import GenerationRequest, LLMBackend, get_backend
from assistant.answer.context import Context, build_context
from assistant.answer.evidence import Evidence, admissible_first, assess, load_model
from assistant.answer.verify import split_sentences, verify
from assistant.errors import AssistantError, BackendError
from assistant.lexicon import EFFECTIVE_CLAUSE, instruction_in, load_synonyms, normalise_title
from assistant.models import Answer, AnswerSentence, Citation, ScoredClause, SearchFilters
from assistant.query import Query, analyse, as_query
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.versions import prefer_current, replacement
from assistant.settings import Settings

log = logging.getLogger(__name__)

ABSTAIN_TEXT = "根据现有文件无法回答该问题。"
_MODEL_ABSTAINS = ("无法回答", "未能找到", "没有找到相关", "资料中没有")
CHANGE_CANDIDATES = 5  # retrieved clauses looked at for an article the 修订 changed
_FALLBACK_NOTICE = "\n\n（生成中断，以下改用抽取式回答）\n"


@dataclass
class _Run:
    """State of one question as it moves through the stages."""

    question: str
    settings: Settings
    query: Query | None = None  # the one analysis of the question (a follow-up rewritten)
    started: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    retrieved: list[ScoredClause] = field(default_factory=list)
    _mark: float = field(default_factory=time.perf_counter)

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round((now - self._mark) * 1000, 2)
        self._mark = now

    def answer(self, text: str, abstained: bool, backend: str, **parts) -> Answer:
        self.timings["total"] = round((time.perf_counter() - self.started) * 1000, 2)
        return Answer(question=self.question, answer=text, abstained=abstained,
                      retrieved=self.retrieved, warnings=list(dict.fromkeys(self.warnings)),
                      backend=backend, timings_ms=self.timings,
                      settings_hash=self.settings.fingerprint(), **parts)


def answer_question(question: str, store, settings: Settings, *, backend=None,
                    filters: SearchFilters | None = None, top_k: int | None = None,
                    history: list[dict] | None = None) -> Answer:
    final = None
    for item in stream_answer(question, store, settings, backend=backend, filters=filters,
                              top_k=top_k, history=history):
        final = item
    assert isinstance(final, Answer)
    return final


def stream_answer(question: str, store, settings: Settings, *, backend=None,
                  filters: SearchFilters | None = None, top_k: int | None = None,
                  history: list[dict] | None = None) -> Iterator[str | Answer]:
    question = _validated(question)
    chosen = get_backend(backend, settings)
    run = _Run(question, settings)
    model = load_model(settings.evidence_model)
    judged, named_docs, model = _retrieve(run, store, filters, top_k, history, model)
    query = run.query
    threshold = model.threshold if settings.abstain_threshold is None else settings.abstain_threshold
    decision = gate.decide(query, judged, _corpus_numbers(store), threshold, model,
                           known_titles=[d.title for d in store.documents])
    if named_docs:
        # Asked about named corpus documents' own metadata: that metadata answers it.
        decision = gate.GateDecision(True, 1.0, decision.threshold, "")
    run.lap("gate")
    if not decision.answerable:
        run.warnings.append(f"拒答：{decision.reason}。")
        yield ABSTAIN_TEXT
        yield run.answer(ABSTAIN_TEXT, True, chosen.name)
        return
    # Clauses about another place or year stay listed in `retrieved` but are not evidence.
    # The older version a change question is about is evidence whatever year it names.
    usable = [e for e in judged if e.admissible or (query.changes and e.scored.routed)] or judged
    if not (query.changes or query.meta):
        usable = current_evidence(usable, query)
    budget = settings.context_tokens if getattr(chosen, "needs_token_budget", True) else None
    context = build_context([e.scored for e in usable], budget)
    run.warnings.extend(context.warnings)
    request = _request(question, query, context, settings, history, usable, model)
    run.lap("context")
    parts: list[str] = []
    used = yield from _generate(chosen, request, settings, parts, run.warnings)
    run.lap("generate")
    yield _finish(run, "".join(parts), context, store, used)


def _validated(question: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise AssistantError("问题为空：请输入要查询的问题。")
    return question.strip()


def _effective_filters(filters: SearchFilters | None, settings: Settings) -> SearchFilters | None:
    if settings.in_force_only and not (filters and filters.in_force_only):
        return (filters or SearchFilters()).model_copy(update={"in_force_only": True})
    return filters


def _retrieve(run: _Run, store, filters, top_k, history, model) -> tuple[list[Evidence], list, object]:
    """Retrieved clauses judged as evidence (admissible first), led by the preambles of the
    documents a metadata question is about, and the evidence model variant that judged them."""
    from assistant.rerankers import rerank

    run.query = query = analyse(run.question, history, load_synonyms(run.settings.synonyms))
    if query.rewritten:
        run.warnings.append(f"追问已改写为完整问题用于检索：{query.text}")
    filters = _effective_filters(filters, run.settings)
    found = HybridRetriever(store).search(query.text, top_k or run.settings.top_k, filters,
                                         query.expansion)
    found = prefer_current(rerank(query, found, run.settings))
    if query.changes:
        found = _versions_first(found, store)
    model = model.for_search(run.settings.embedder, found)
    named = named_documents(query, store, filters) if query.meta else []
    if query.meta:
        top = [store.document(found[0].doc.doc_id)] if found else []
        found = _preambles_first(named or [d for d in top if d and d.clauses], found,
                                 "effective" in query.meta)
        if "status" in query.meta:
            found = _with_validity_evidence(found, store)
    judged = admissible_first(assess(query, found, model))
    run.retrieved = [e.scored for e in judged]
    run.lap("retrieve")
    return judged, named, model


def current_evidence(judged: list[Evidence], query: Query) -> list[Evidence]:
    """Leave out clauses of a replaced text when its replacement has evidence here too,
    unless the question asks for that text itself (its title, and its year when the title
    is shared by versions: 2007年公布的人体器官移植条例)."""
    present = {e.scored.doc.doc_id for e in judged}

    def outdated(doc) -> bool:
        replaced = replacement(doc)
        return replaced in present and not _asks_for(doc, query)

    return [e for e in judged if not outdated(e.scored.doc)] or judged


def _asks_for(doc, query: Query) -> bool:
    if not titled_in(query.text, [doc]):
        return False
    when = doc.version_date
    return len(doc.versions) < 2 or (when is not None and str(when.year) in query.text)


def named_documents(question: Query | str, store, filters: SearchFilters | None) -> list:
    """Documents a metadata question names: by 文号, or by the status it asks for (哪份文件已失效)."""
    query = as_query(question)
    numbers, status = query.doc_numbers, query.status_asked
    titled = titled_in(query.text, store.documents) if "status" in query.meta else []
    if numbers:
        docs = [d for d in store.documents
                if d.number and any(n.endswith(d.number) for n in numbers)]
    elif titled:
        docs = titled  # 《人体器官移植条例》还有效吗 / 被哪个文件废止了
    elif status:
        # Only a stated status counts: an unmarked document is not assumed to be in force.
        docs = [d for d in store.documents if d.status and d.status.value == status]
    else:
        docs = []
    return [d for d in docs if d.clauses and (filters is None or filters.admits(d))]


def titled_in(question: str, documents) -> list:
    """Documents whose title the question writes out (every version of it), the longest
    titles only: 人体器官捐献和移植条例 does not also name 人体器官移植条例's namesakes."""
    text = normalise_title(question)
    named = [d for d in documents if len(d.title) >= 4 and normalise_title(d.title) in text]
    longest = [d for d in named if not any(d.title != o.title and d.title in o.title
                                           for o in named)]
    return sorted(longest, key=lambda d: d.version_date or date.min)


def _preambles_first(docs: list, found: list[ScoredClause], effective: bool = False
                     ) -> list[ScoredClause]:
    """The documents' preambles (or, for when a document takes effect, the clause saying
    so: 本法自1998年10月1日起施行) first, marked routed."""
    top = found[0].score if found else 1.0
    heads = [ScoredClause(clause=_head_clause(d, effective), doc=d.info(), score=top, routed=True)
             for d in docs]
    ids = {h.clause.clause_id for h in heads}
    return heads + [s for s in found if s.clause.clause_id not in ids]


def _versions_first(found: list[ScoredClause], store) -> list[ScoredClause]:
    """For 修订后关于X的规定有什么变化: the best-ranked article of a work held in several
    versions that the 修订 changed (else the best-ranked one) and its counterpart in the
    other version (aligned by `assistant.compare`), newer first, both routed, ahead."""
    pairs: list[list[ScoredClause]] = []
    for scored in found[:CHANGE_CANDIDATES]:
        heads = _counterparts(scored, store)
        if heads:
            pairs.append(heads)
            if len(heads) == 2 and heads[0].clause.text != heads[1].clause.text:
                break
    if not pairs:
        return found
    heads = pairs[-1] if len(pairs[-1]) == 2 else pairs[0]
    ids = {h.clause.clause_id for h in heads}
    return heads + [s for s in found if s.clause.clause_id not in ids]


def _version_pair(doc, store):
    """(older, newer) Documents: this version and the one before or after it."""
    if len(doc.versions) < 2:
        return None
    position = doc.versions.index(doc.doc_id) if doc.doc_id in doc.versions else -1
    if position < 0:
        return None
    other = doc.versions[position + 1] if position + 1 < len(doc.versions) else \
        doc.versions[position - 1]
    pair = sorted([doc.doc_id, other], key=doc.versions.index)
    documents = [store.document(doc_id) for doc_id in pair]
    return None if None in documents else tuple(documents)


def _counterparts(scored: ScoredClause, store) -> list[ScoredClause]:
    """The article holding `scored` and the other version's article aligned with it,
    newer first, routed; [] when the document has one version."""
    from assistant.compare import compare

    pair = _version_pair(scored.doc, store)
    if pair is None:
        return []
    old, new = pair
    own = old if scored.doc.doc_id == old.doc_id else new
    article = _article_head(own, scored.clause)
    for change in compare(old, new).changes:
        sides = [(new, change.new), (old, change.old)]
        if any(a is not None and a.clause_id == article.clause_id for _, a in sides):
            return [ScoredClause(clause=doc.clause(a.clause_id), doc=doc.info(),
                                 score=scored.score, routed=True)
                    for doc, a in sides if a is not None]
    return []


def _article_head(doc, clause):
    """The 第X条 clause a clause belongs to (itself when it is one)."""
    from assistant.lexicon import is_article_label

    depth = next((i for i, label in enumerate(clause.path) if is_article_label(label)), None)
    if depth is None:
        return clause
    return next((c for c in doc.clauses if c.path == clause.path[: depth + 1]), clause)


def _with_validity_evidence(found: list[ScoredClause], store) -> list[ScoredClause]:
    """After each document asked about, what settles its validity: the clause that repealed
    it, or the current version's preamble (its 修订 history)."""
    result, seen = [], {s.clause.clause_id for s in found}
    for scored in found:
        result.append(scored)
        evidence = _validity_evidence(scored, store) if scored.routed else None
        if evidence is not None and evidence.clause.clause_id not in seen:
            result.append(evidence)
            seen.add(evidence.clause.clause_id)
    return result


def _validity_evidence(scored: ScoredClause, store) -> ScoredClause | None:
    doc, clause = scored.doc, None
    if doc.repealed_by is not None:
        other = store.document(doc.repealed_by.doc_id)
        clause = other and other.clause(doc.repealed_by.clause_id)
    elif doc.superseded_by is not None:
        other = store.document(doc.superseded_by.doc_id)
        clause = other and _head_clause(other, False)
    if not clause:
        return None
    return ScoredClause(clause=clause, doc=other.info(), score=scored.score, routed=True)


def _head_clause(doc, effective: bool):
    if effective:
        stating = [c for c in doc.clauses if EFFECTIVE_CLAUSE.search(c.text)]
        if stating:
            return stating[-1]  # the closing article, not an earlier 自…起实施 of a measure
    return next((c for c in doc.clauses if c.kind == "preamble"), doc.clauses[0])


def _corpus_numbers(store) -> list[str]:
    return [d.number for d in store.documents if d.number]


def _request(question: str, query: Query, context: Context, settings: Settings,
             history: list[dict] | None, judged: list[Evidence], model) -> GenerationRequest:
    """The prompt keeps the user's words (LLMs also get the history); the extractive
    backend works from the standalone query and each clause's evidence score."""
    system = prompts.render(settings.prompts_dir, prompts.SYSTEM)
    user = prompts.render(settings.prompts_dir, prompts.USER, context=context.text,
                          question=question)
    scores = {e.scored.clause.clause_id: e.score for e in judged}
    return GenerationRequest(query.text, context, system, user, list(history or []),
                             query=query, evidence=scores, cite_threshold=model.cite_threshold,
                             doc_cite_threshold=model.other_document_threshold)


def _generate(backend: LLMBackend, request: GenerationRequest, settings: Settings,
              parts: list[str], warnings: list[str]) -> Iterator[str]:
    """Stream the backend's chunks into `parts`; returns the name of the backend that answered."""
    try:
        for chunk in backend.generate(request):
            parts.append(chunk)
            yield chunk
        return backend.name
    except BackendError as err:
        if not settings.fallback_to_extractive or backend.name == "extractive":
            raise
        # The error names the internal LLM server: it goes to the log, not to the reader.
        log.warning("backend %s failed, answered with extractive instead: %s", backend.name, err)
        warnings.append(f"{backend.name} 后端暂时不可用，已改用抽取式回答（详情见服务器日志）。")
        if parts:
            yield _FALLBACK_NOTICE
        parts.clear()
    fallback = get_backend("extractive", settings)
    for chunk in fallback.generate(request):
        parts.append(chunk)
        yield chunk
    return fallback.name


def _finish(run: _Run, raw: str, context: Context, store, backend: str) -> Answer:
    run.warnings.extend(_planted_instructions(context))
    text, dropped = cites.normalise_markers(raw.strip(), {b.marker for b in context.blocks})
    if dropped:
        run.warnings.append(f"已删除 {dropped} 个指向不存在资料的引用标记。")
    if not text or _model_abstained(text):
        run.warnings.append("拒答：后端未能依据检索到的条款作答。")
        return run.answer(ABSTAIN_TEXT, True, backend)
    text = _without_instructions(text, run)
    if not text:
        return run.answer(ABSTAIN_TEXT, True, backend)
    known = _corpus_numbers(store) + cites.doc_numbers_in(context.text)
    for number in cites.unknown_doc_numbers(text, known):
        run.warnings.append(f"回答中出现语料中不存在的文号“{number}”，可能为模型臆造，请核实。")
    sentences = verify(text, context)
    found = _mark_support(cites.citations_for(cites.markers_in(text), context), sentences)
    run.warnings.extend(_support_warnings(sentences) + [c.warning for c in found if c.warning])
    run.lap("verify")
    return run.answer(text, False, backend, citations=found, sentences=sentences)


def _without_instructions(text: str, run: _Run) -> str:
    """`text` less its sentences that instruct a model or state a secret (a document's
    planted text is data, never the answer): each is named in a 未能核实 warning."""
    for sentence in split_sentences(text):
        why = instruction_in(sentence)
        if why:
            text = text.replace(sentence, "", 1)
            run.warnings.append(f"未能核实：文件内容含指令（{why}），该句未作为回答："
                                f"“{cites.MARKER_RE.sub('', sentence)[:40]}”。")
    return text.strip()


def _planted_instructions(context: Context) -> list[str]:
    """A flag for each retrieved clause that holds an instruction to the model or a stated
    secret: its sentences are never answers (the extractive backend skips them, an LLM's
    copy is removed), and the reader should know the document holds them."""
    flags = []
    for block in context.blocks:
        why = instruction_in(block.scored.clause.text)
        if why:
            flags.append(f"文件内容含指令：资料[{block.marker}]（{block.doc.title or block.doc.doc_id}"
                         f" {block.scored.clause.label}）含{why}，已当作文件内容处理，"
                         "未作为回答（未能核实）。")
    return flags


def _model_abstained(text: str) -> bool:
    return not cites.markers_in(text) and any(p in text for p in _MODEL_ABSTAINS)


def _mark_support(found: list[Citation], sentences: list[AnswerSentence]) -> list[Citation]:
    """A citation is supported only if every sentence citing it checks out."""
    for citation in found:
        citing = [s for s in sentences if citation.marker in s.markers]
        citation.supported = bool(citing) and all(s.supported for s in citing)
    return found


def _support_warnings(sentences: list[AnswerSentence]) -> list[str]:
    failed = [s for s in sentences if not s.supported]
    if not failed:
        return []
    details = "；".join(f"“{s.text[:30]}”缺少：{'、'.join(s.missing)}" for s in failed[:3])
    return [f"{len(failed)} 句回答未能在所引条款中核实（{details}）。"]
