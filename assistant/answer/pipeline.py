"""judge the retrieved clauses → gate (abstain?) → build context → generate → resolve markers
→ verify → Answer.

The clauses come from `assistant.retrieval.retrieve` (the service calls it); this package
never retrieves. `stream_answer` yields the answer text in chunks as the backend produces it,
then the final `Answer` (whose `answer` text is authoritative: markers pointing at no block are
removed from it). `answer_question` is the same run, returning only the `Answer`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from assistant.answer import citations as cites
from assistant.answer import gate, prompts
from assistant.answer.backend_choice import get_backend
from assistant.answer.backends import GenerationRequest, LLMBackend
from assistant.answer.context import Context, build_context
from assistant.answer.evidence import (
    Evidence,
    admissible_first,
    answer_fingerprint,
    assess,
    load_model,
    model_path,
)
from assistant.answer.judge import get_judge
from assistant.answer.verify import split_sentences, verify
from assistant.errors import BackendError
from assistant.lexicon import instruction_in
from assistant.models import Answer, AnswerSentence, Citation, ScoredClause, SearchFilters
from assistant.query import Query
from assistant.retrieval import effective_filters
from assistant.retrieval.documents import named_documents, titled_in
from assistant.retrieval.versions import replacement
from assistant.settings import Settings

log = logging.getLogger(__name__)

ABSTAIN_TEXT = "根据现有文件无法回答该问题。"
_MODEL_ABSTAINS = ("无法回答", "未能找到", "没有找到相关", "资料中没有")
_FALLBACK_NOTICE = "\n\n（生成中断，以下改用抽取式回答）\n"
NEWS_NAMED_WITHIN = 3  # retrieval ranks a refusal looks at for news reports to name


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
                      settings_hash=answer_fingerprint(self.settings), **parts)


# A part's candidates, each with the clauses retrieval found for that part alone.
Parts = list[tuple[Query, list[ScoredClause]]]


def answer_question(query: Query, found: list[ScoredClause], store, settings: Settings, *,
                    backend=None, filters: SearchFilters | None = None,
                    history: list[dict] | None = None, started: float | None = None,
                    parts: Parts | None = None) -> Answer:
    final = None
    for item in stream_answer(query, found, store, settings, backend=backend, filters=filters,
                              history=history, started=started, parts=parts):
        final = item
    assert isinstance(final, Answer)
    return final


def stream_answer(query: Query, found: list[ScoredClause], store, settings: Settings, *,
                  backend=None, filters: SearchFilters | None = None,
                  history: list[dict] | None = None, started: float | None = None,
                  parts: Parts | None = None) -> Iterator[str | Answer]:
    """The answer to `query` from the clauses `retrieval.retrieve` found for it (the search
    filters only tell which documents a metadata question may name); `started`: when the
    question arrived, so the timings include its analysis and retrieval; `parts`: for a
    question asking two things, each part's own candidates (`retrieval.retrieve_parts`)."""
    chosen = get_backend(backend, settings)
    run = _Run(query.asked, settings, query)
    if started is not None:
        run.started = run._mark = started
    # A news report tells of a policy; it is no basis for an answer (nor for refusing one).
    # A refusal names the reports among the best candidates: the reader may know them.
    reports = [s for s in found[:NEWS_NAMED_WITHIN] if s.doc.genre == "news"]
    found = [s for s in found if s.doc.genre != "news"]
    judged, named_docs, model = _judge(run, found, store, filters)
    threshold = settings.answer.abstain_threshold
    threshold = model.threshold if threshold is None else threshold
    known_numbers, known_titles = _corpus_numbers(store), [d.title for d in store.documents]
    decision = gate.decide(query, judged, known_numbers, threshold, model,
                           known_titles=known_titles)
    if named_docs:
        # Asked about named corpus documents' own metadata: that metadata answers it.
        decision = gate.GateDecision(True, 1.0, decision.threshold, "")
    run.lap("gate")
    if not decision.answerable:
        run.warnings.append(f"拒答：{decision.reason}。")
        run.warnings += news_only(reports)
        yield ABSTAIN_TEXT
        yield run.answer(ABSTAIN_TEXT, True, chosen.name)
        return
    # Clauses about another place or year stay listed in `retrieved` but are not evidence.
    # The older version a change question is about is evidence whatever year it names.
    usable = [e for e in judged if e.admissible or (query.changes and e.scored.routed)] or judged
    part_best, part_answers = _best_per_part(parts or [], run.settings,
                                             known_numbers, known_titles)
    present = {e.scored.clause.clause_id for e in usable}
    usable += [e for clause, e in part_best.items() if clause not in present]
    if not (query.changes or query.meta):
        usable = current_evidence(usable, query)
    budget = settings.answer.context_tokens if getattr(chosen, "needs_token_budget", True) else None
    context = build_context([e.scored for e in usable], budget)
    run.warnings.extend(context.warnings)
    request = _request(query.asked, query, context, settings, history, usable, model,
                       {cid: e.score for cid, e in part_best.items()}, part_answers)
    run.lap("context")
    parts: list[str] = []
    used = yield from _generate(chosen, request, settings, parts, run.warnings)
    run.lap("generate")
    yield _finish(run, "".join(parts), context, store, used)


def _judge(run: _Run, found: list[ScoredClause], store, filters: SearchFilters | None
           ) -> tuple[list[Evidence], list, object]:
    """The retrieved clauses judged as evidence (admissible first), the documents a metadata
    question names, and the evidence model variant that judged them."""
    query = run.query
    if query.rewritten:
        run.warnings.append(f"追问已改写为完整问题用于检索：{query.text}")
    named = [d for d in named_documents(query, store, effective_filters(filters, run.settings))
             if d.genre != "news"] if query.meta else []
    model, judge = _evidence_model(run.settings, found)
    judged = admissible_first(assess(query, found, model, judge))
    run.retrieved = [e.scored for e in judged]
    run.lap("retrieve")
    return judged, named, model


def news_only(reports: list[ScoredClause], shown: int = 2) -> list[str]:
    """Where a refused question's best candidates include news reports, say so: the reader
    may know the report, and should know why it is not the answer."""
    titles = list(dict.fromkeys(f"《{s.doc.title}》" for s in reports))[:shown]
    if not titles:
        return []
    return [f"检索结果中有新闻报道{'、'.join(titles)}，"
            + "新闻报道不是政策文件，未作为答复依据。"]


def _evidence_model(settings: Settings, found: list[ScoredClause]):
    """The evidence model variant for these candidates and the judge it was fitted with
    (None when it was fitted without one)."""
    model = load_model(model_path(settings)).for_search(settings.index.embedder, found)
    answer = settings.answer
    return model, (get_judge(answer.judge, answer.judge_model) if model.judge else None)


def _best_per_part(parts: Parts, settings: Settings, known_numbers: list[str],
                   known_titles: list[str]) -> tuple[dict[str, Evidence], tuple[str, ...]]:
    """Each part's best admissible clause, judged as the answer to that part alone by the
    same evidence model (clause id → its Evidence, the best score when parts share one),
    and those of the parts the gate would answer asked alone. The gate has decided on the
    whole question; a part it would answer on its own is answered (顺德区的… and 乐从镇的…
    each by its own notice), the others' clauses only when they clear the citing bars."""
    best: dict[str, Evidence] = {}
    answered: list[str] = []
    for part, found in parts:
        model, judge = _evidence_model(settings, found)
        judged = assess(part, found, model, judge)
        top = max((e for e in judged if e.admissible), key=lambda e: e.score, default=None)
        if top is None:
            continue
        clause = top.scored.clause.clause_id
        if clause not in best or best[clause].score < top.score:
            best[clause] = top
        if gate.decide(part, judged, known_numbers, settings.answer.abstain_threshold,
                       model, known_titles=known_titles).answerable:
            answered.append(clause)
    return best, tuple(dict.fromkeys(answered))


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


def _corpus_numbers(store) -> list[str]:
    return [d.number for d in store.documents if d.number]


def _request(question: str, query: Query, context: Context, settings: Settings,
             history: list[dict] | None, judged: list[Evidence], model,
             part_scores: dict[str, float] | None = None,
             part_answers: tuple[str, ...] = ()) -> GenerationRequest:
    """The prompt keeps the user's words (LLMs also get the history); the extractive
    backend works from the standalone query and each clause's evidence score (a clause
    that best answers one part of the question: the better of the two)."""
    system = prompts.render(settings.paths.prompts_dir, prompts.SYSTEM)
    user = prompts.render(settings.paths.prompts_dir, prompts.USER, context=context.text,
                          question=question)
    scores = {e.scored.clause.clause_id: e.score for e in judged}
    for clause, score in (part_scores or {}).items():
        scores[clause] = max(score, scores.get(clause, 0.0))
    return GenerationRequest(query.text, context, system, user, list(history or []),
                             query=query, evidence=scores, cite_threshold=model.cite_threshold,
                             doc_cite_threshold=model.other_document_threshold,
                             restated_cite_threshold=model.restated_cite_threshold,
                             part_answers=part_answers)


def _generate(backend: LLMBackend, request: GenerationRequest, settings: Settings,
              parts: list[str], warnings: list[str]) -> Iterator[str]:
    """Stream the backend's chunks into `parts`; returns the name of the backend that answered."""
    try:
        for chunk in backend.generate(request):
            parts.append(chunk)
            yield chunk
        return backend.name
    except BackendError as err:
        if not settings.answer.fallback_to_extractive or backend.name == "extractive":
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
            flags.append(
                f"文件内容含指令：资料[{block.marker}]（{block.doc.title or block.doc.doc_id}"
                f" {block.scored.clause.label}）含{why}，已当作文件内容处理，"
                "未作为回答（未能核实）。"
            )
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
