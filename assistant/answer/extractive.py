"""The offline default backend: answers with sentences taken verbatim from the context.

No model and no instructions followed. The clauses it may cite are decided by evidence:
the best-scoring clause, plus every other clause whose evidence probability reaches the
model's cite threshold. When those clauses come from several documents each document
gets its best sentence; otherwise the best 1-4 sentences of the cited clauses (scored by
overlap with the question's content words) are returned, each followed by its block
marker, so a citation only ever stands beside a sentence taken from that clause. The
sentence stating what was asked leads (never a clause's heading alone), then the context. A
question about responsibility also gets the clause's 责任单位 note. A question about a document
itself (是否有效, 何时印发, 发文机关, 文号, 发给哪些单位, 根据哪个文件制定) is answered from its
metadata or preamble, citing the block that states it (the pipeline puts that document's preamble
first).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from assistant.answer.backends import BACKENDS, GenerationRequest
from assistant.answer.context import Context, ContextBlock, article_lead_in, chinese_date
from assistant.lexicon import (
    EFFECTIVE_CLAUSE,
    REPEAL_VERB,
    instruction_in,
    is_article_label,
    other_case,
    restates,
    states_quantity_of,
    strip_leading_marker,
)
from assistant.query import (
    Query,
    analyse,
    defines,
    names_kind,
    names_who,
    states_number,
    states_place,
    states_quantity,
    states_time,
)
from assistant.settings import Settings

MAX_SENTENCES = 4
SINGLE_DOC_BLOCKS = 3
MULTI_DOC_LIMIT = 4
_DUTY_RE = re.compile(
    r"[（(][^（）()]*(?:负责|参与|牵头|配合|责任单位)[^（）()]*[）)]\s*$|责任单位[:：].*$"
)
_DUTY_NOTE_RE = re.compile(
    r"[（(]([^（）()]*(?:负责|参与|牵头|配合)[^（）()]*)[）)]|责任单位[:：]\s*([^\n）)]+)"
)
_SPLIT_RE = re.compile(r"[^。；！？!?\n]+[。；！？!?]?")
# A sentence opening so goes on with the one before it: what it divides or names in detail.
_DETAILS = re.compile(r"^(?:其中|具体(?:为|是|包括|如下)|主要包括|包括|即)")


@dataclass(frozen=True)
class Candidate:
    block: ContextBlock
    position: int
    text: str
    score: float

    def cited(self) -> str:
        return f"{self.text.rstrip('。；;，,')}[{self.block.marker}]。"


def clause_sentences(text: str) -> list[str]:
    """The clause's sentences without its leading label or trailing duty note."""
    body = strip_leading_marker(text.strip())
    sentences = []
    for piece in _SPLIT_RE.findall(body):
        piece = _DUTY_RE.sub("", piece.strip()).strip()
        if len(piece.strip("。；！？!? ")) >= 4 and not instruction_in(piece):
            sentences.append(piece)  # (a planted instruction is data, never an answer)
    return sentences


def block_sentences(block: ContextBlock) -> list[tuple[int, str]]:
    """(position, sentence) of a block: its clause's sentences from 0, after the sentences of
    its article's lead-in (negative positions) when it is a 项 or 款. Only an asked fact is
    taken from the lead-in (`with_asked_fact`): 情节严重的，取消其两个考核周期以上的考核机构资格
    answers 取消几个周期, where the item says 在考核工作中有弄虚作假…的; otherwise the item
    itself answers. A lead-in the parser cut short (…) loses its unfinished sentence."""
    own = list(enumerate(clause_sentences(block.scored.clause.text)))
    lead = article_lead_in(block.scored.clause)
    if not lead:
        return own
    sentences = [s for s in clause_sentences(lead) if not s.rstrip().endswith("…")]
    return [(i - len(sentences), s) for i, s in enumerate(sentences)] + own


def duty_sentence(block: ContextBlock) -> str | None:
    """The clause's responsibility note (省卫生健康委等按职责分工负责), cited."""
    notes = list(_DUTY_NOTE_RE.finditer(block.scored.clause.text))
    if not notes:
        return None
    # Up to its first full stop: a note may go on to explain itself (…分别负责。分别负责为…).
    note = (notes[-1].group(1) or notes[-1].group(2)).split("。")[0].strip()
    return f"责任单位：{note}[{block.marker}]。"


def term_weights(query: Query, covered: list[set[str]]) -> dict[str, float]:
    """Longer and rarer question terms count more; `covered`: the terms each sentence
    of the pool covers."""
    n = len(covered) or 1
    weights = {}
    for term in query.terms:
        df = sum(term in found for found in covered)
        weights[term] = len(term) * math.log(1 + n / (df or 1))
    return weights


def asks_fact(query: Query) -> bool:
    """The question asks for one stated fact: a quantity, a number, a time, a name, or a
    thing of a named kind (什么制度)."""
    return asks_amount_or_time(query) or query.who or asks_kind(query)


def asks_amount_or_time(query: Query) -> bool:
    return bool(query.quantity or query.units or query.amount or query.when)


def asks_kind(query: Query) -> bool:
    """It asks what a named thing of some kind is called (实行的是什么制度), and nothing else."""
    return bool(query.kind_asked) and not query.who and not asks_amount_or_time(query)


def asks_name(query: Query) -> bool:
    """It asks for a person or body by name, and for no amount or time (总指挥是谁)."""
    return query.who and not asks_amount_or_time(query)


def states_asked(query: Query, sentence: str) -> bool:
    """The sentence states what the question asks for: a quantity of the asked unit family
    (最少配几个人 → 不少于2名), of the unit named (多少张), a number (多少), a time (何时),
    the person or body asked for (总指挥是谁 → 总 指 挥：唐某某), a thing of the kind asked
    named in quotes (什么制度 → 实施“日报告、周统计”制度)."""
    if asks_name(query):
        return names_who(query, sentence) > 0
    if asks_kind(query):
        return names_kind(query.kind_asked, sentence)
    if query.quantities:
        return any(states_quantity_of(sentence, family) for family in query.quantities)
    if query.units:
        return any(states_quantity(sentence, unit) for unit in query.units)
    if query.when:  # 从几月查到几月 also reads as an amount; 三类地区 states no month
        return states_time(sentence)
    return query.amount and states_number(sentence)


# A sentence stating the asked fact gets this share of all the question terms' weight on
# top of its own overlap: a quantity question is answered by the sentence with the number,
# a 什么制度 question by the one naming the 制度, not by a neighbour that repeats more of
# the question's words.
ASKED_FACT_BONUS = 0.5
# A sentence ruling the other case of the question's condition (满十年的 for 不到十年的) keeps
# this share of its score: its neighbour for the case asked answers.
OTHER_CASE_SHARE = 0.5


def candidates(query: Query, blocks: list[ContextBlock]) -> list[Candidate]:
    pool = [(rank, block, position, sentence) for rank, block in enumerate(blocks)
            for position, sentence in enumerate(clause_sentences(block.scored.clause.text))]
    covered = [query.covered(query.terms, p[3]) for p in pool]
    weights = term_weights(query, covered)
    # A name is added beside the best sentence (`with_asked_fact`), not chosen over it: a
    # roster line (负责人：某某) shares few words with what the person is responsible for.
    asked = asks_amount_or_time(query) or asks_kind(query)
    bonus = ASKED_FACT_BONUS * sum(weights.values()) if asked else 0.0
    found = []
    for (rank, block, position, sentence), terms in zip(pool, covered):
        score = sum(w for t, w in weights.items() if t in terms)
        if score > 0 and bonus and states_asked(query, sentence):
            score += bonus
        if score > 0 and other_case(query.conditions, sentence):
            score *= OTHER_CASE_SHARE
        score *= 1.0 - 0.05 * rank
        if score > 0:  # retrieval order (rank) breaks ties
            found.append(Candidate(block, position, sentence, score))
    return found


def pick_single(found: list[Candidate]) -> list[Candidate]:
    if not found:
        return []
    top = max(found, key=lambda c: c.score)
    # One document answers a single question: other documents' sentences only add noise.
    chosen = sorted((c for c in found if c.score >= 0.6 * top.score
                     and c.block.doc.doc_id == top.block.doc.doc_id), key=lambda c: -c.score)
    return sorted(chosen[:MAX_SENTENCES], key=lambda c: (c.block.marker, c.position))


def pick_per_document(found: list[Candidate]) -> list[Candidate]:
    if not found:
        return []
    best = max(c.score for c in found)
    per_doc: dict[str, Candidate] = {}
    for cand in sorted(found, key=lambda c: -c.score):
        per_doc.setdefault(cand.block.doc.doc_id, cand)
    chosen = [c for c in per_doc.values() if c.score >= 0.4 * best][:MULTI_DOC_LIMIT]
    return sorted(chosen, key=lambda c: c.block.marker)


def opening(block: ContextBlock, count: int = 3) -> list[Candidate]:
    """The first sentences of a clause, for a question that names it without other terms."""
    sentences = clause_sentences(block.scored.clause.text)[:count]
    return [Candidate(block, i, s, 0.0) for i, s in enumerate(sentences)]


def metadata_sentences(kinds: list[str], block: ContextBlock,
                       context: Context | None = None) -> list[str]:
    doc, n = block.doc, block.marker
    version = doc.version_label if len(doc.versions) > 1 else None  # which of the versions
    ref = f"《{doc.title}》" + (f"（{doc.number}）" if doc.number else version or "")
    facts = {
        "status": f"{ref}的有效性为“{doc.status.value}”" if doc.status else f"{ref}未标注有效性",
        "date": _date_fact(ref, block),
        "issuer": f"{ref}的发文机关为{doc.issuer}" if doc.issuer else f"{ref}未标注发文机关",
        "number": f"{ref}的文号为{doc.number}" if doc.number else f"《{doc.title}》未标注文号",
    }
    facts["addressee"] = _addressee_fact(ref, block)
    facts["effective"] = _effective_fact(ref, block)
    facts["basis"] = _basis_fact(ref, block)
    sentences = [f"{facts[kind]}[{n}]。" for kind in kinds]
    if "status" in kinds and context is not None:
        sentences += _validity_sentences(ref, block, context)
    return sentences


def _validity_sentences(ref: str, block: ContextBlock, context: Context) -> list[str]:
    """What the library knows beyond the document's own words, citing its evidence: the
    repealing clause, or the latest version's opening (its 修订 history)."""
    doc, own = block.doc, f"[{block.marker}]"
    if doc.repealed_by is not None:
        link = doc.repealed_by
        other = _block_of(context, link.clause_id)
        if other is not None:
            quoted = link.evidence.rstrip("。")
            return [f"{ref}已由{link.ref}{link.label}废止：“{quoted}”[{other.marker}]。"]
    if doc.superseded_by is not None:
        link = doc.superseded_by
        other = next((b for b in context.blocks if b.doc.doc_id == link.doc_id), None)
        if other is not None:
            return [f"{ref}已被修订，本库所存最新版本为{link.ref}{own}[{other.marker}]。"]
    if len(doc.versions) > 1 and doc.superseded_by is None:
        return [f"{ref}是本库所存该文件各版本中最新的一版{own}。"]
    return []


def _block_of(context: Context, clause_id: str) -> ContextBlock | None:
    return next((b for b in context.blocks if b.scored.clause.clause_id == clause_id), None)


def _effective_fact(ref: str, block: ContextBlock) -> str:
    # The clause stating it, verbatim (本法自1998年10月1日起施行), with what it repeals
    # (原《…》同时废止: whether the old version still holds), else the parsed 施行 date.
    sentences = clause_sentences(block.scored.clause.text)
    for i, sentence in enumerate(sentences):
        if EFFECTIVE_CLAUSE.search(sentence):
            repeals = [s for s in sentences[i + 1:] if REPEAL_VERB.search(s)]
            # Each quoted sentence carries the marker (the caller adds the last one).
            return f"[{block.marker}]。".join(s.rstrip("。；") for s in (sentence, *repeals[:1]))
    if block.doc.effective:
        return f"{ref}的施行日期为{chinese_date(block.doc.effective)}"
    return f"{ref}未标注施行日期"


def _basis_fact(ref: str, block: ContextBlock) -> str:
    # The preamble states what the document implements: 根据《…》…, 为落实《…》…
    for sentence in clause_sentences(block.scored.clause.text):
        if "《" in sentence and re.search(r"根据|依据|落实|贯彻", sentence):
            return sentence.rstrip("。；")
    return f"{ref}的前言未说明制定依据"


def _addressee_fact(ref: str, block: ContextBlock) -> str:
    # The preamble opens with the addressees, ending with a colon: 各市（州）人民政府，…：
    first = block.scored.clause.text.strip().split("\n", 1)[0]
    if first.endswith(("：", ":")) and block.scored.clause.kind == "preamble":
        return f"{ref}的主送单位为：{first.rstrip('：:')}"
    return f"{ref}未列明主送单位"


def _date_fact(ref: str, block: ContextBlock) -> str:
    doc = block.doc
    parts = [f"成文日期为{chinese_date(doc.signed)}" if doc.signed else "",
             f"发布日期为{chinese_date(doc.published)}" if doc.published else ""]
    stated = "，".join(p for p in parts if p)
    return f"{ref}的{stated}" if stated else f"{ref}未标注成文日期和发布日期"


def compose(question: Query | str, context: Context, evidence: dict[str, float] | None = None,
            cite_threshold: float = 0.5, doc_cite_threshold: float | None = None,
            part_answers: tuple[str, ...] = (),
            restated_cite_threshold: float | None = None) -> list[str]:
    """The answer's sentences, each ending with its marker.

    evidence: clause id → probability that the clause answers (None: every block counts).
    doc_cite_threshold: the bar for another document's first clause (None: cite_threshold).
    part_answers: clauses that each answer one part of the question, cited in any case.
    restated_cite_threshold: the bar for another document's first clause that restates the
    best clause (None: no other bar than doc_cite_threshold).
    """
    query = question if isinstance(question, Query) else analyse(question)
    if not context.blocks:
        return []
    if query.meta:
        blocks = _documents_asked_about(query, context.blocks) or context.blocks[:1]
        return [s for block in blocks
                for s in metadata_sentences(list(query.meta), block, context)]
    if query.changes and (versions := _two_versions(context.blocks)):
        return change_sentences(*versions)
    if context.blocks[0].scored.routed:
        # The question named this clause (川办函〔2021〕56号 一、（六）讲了什么): answer from it.
        chosen = pick_single(candidates(query, context.blocks[:1])) or opening(context.blocks[0])
    elif query.defined and (defining := [b for b in context.blocks
                                         if defines(b.scored.clause.text, query.defined)]):
        # 工资总额是什么意思: the article defining it answers (本条例所称工资总额，是指…), alone.
        chosen = pick_single(candidates(query, defining[:1])) or opening(defining[0])
    elif evidence is None:  # no evidence scores given (a direct call): word overlap alone
        found = candidates(
            query, context.blocks if query.spanning else context.blocks[:SINGLE_DOC_BLOCKS]
        )
        chosen = pick_per_document(found) if query.spanning else pick_single(found)
    else:
        other = cite_threshold if doc_cite_threshold is None else doc_cite_threshold
        bars = (cite_threshold, other,
                other if restated_cite_threshold is None else restated_cite_threshold)
        chosen = _from_evidence(query, cited_blocks(context, evidence, bars, query,
                                                    part_answers))
    chosen = with_asked_fact(query, with_body(chosen))
    sentences = [c.cited() for c in lead_with_asked(query, chosen)]
    if chosen and query.asks_duty:
        duty = duty_sentence(chosen[0].block)
        sentences = ([duty] if duty else []) + sentences  # the unit in charge first
    return sentences


def _documents_asked_about(query: Query, blocks: list[ContextBlock]) -> list[ContextBlock]:
    """One block per document a metadata question is about. The pipeline marks routed each
    one's preamble, or for when it takes effect the clause saying so; a question naming a
    law by title routes its preamble (目录) too, which states no date."""
    def rank(block: ContextBlock) -> int | None:
        clause = block.scored.clause
        if "effective" in query.meta and EFFECTIVE_CLAUSE.search(clause.text):
            return 0
        return 1 if clause.kind == "preamble" else None

    heads: dict[str, tuple[int, ContextBlock]] = {}
    for block in (b for b in blocks if b.scored.routed):
        r, doc = rank(block), block.doc.doc_id
        if r is not None and (doc not in heads or r < heads[doc][0]):
            heads[doc] = (r, block)
    return [block for _, block in heads.values()]


def with_asked_fact(query: Query, chosen: list[Candidate]) -> list[Candidate]:
    """For each fact asked that no chosen sentence of a cited document states, the first
    sentence of that document's chosen clauses that does (it may share no word with the
    question: 应于2小时内报告; a question may ask two: 有效期是几年，到期前多久要申请延续, or
    one in each part: 指定几个联络员？什么时候前报上去？; two documents each state their own:
    市级和区级的总指挥分别是谁)."""
    if not chosen or not asks_fact(query):
        return chosen
    asked = [replace(query, quantities=(f,), quantity=f) for f in query.quantities] or [query]
    asked += [part for part in query.parts if asks_fact(part)]
    added = list(chosen)
    for doc in dict.fromkeys(c.block.doc.doc_id for c in chosen):
        blocks = list({c.block.marker: c.block for c in chosen
                       if c.block.doc.doc_id == doc}.values())
        for one in asked:
            own = [c for c in added if c.block.doc.doc_id == doc]
            stating = [Candidate(b, i, s, 0.0) for b in blocks
                       for i, s in block_sentences(b) if states_asked(one, s)]
            if asks_name(one):  # the roster line with the closest label
                stating.sort(key=lambda c: -names_who(one, c.text))
                # 总 指 挥：… names a post, but not the 常务副总指挥 asked for
                closest = names_who(one, stating[0].text) if stating else 0
                stated = any(names_who(one, c.text) >= closest for c in own if closest)
            else:
                stated = any(states_asked(one, c.text) for c in own)
            if not stated:
                added += stating[:1]
    return added


def lead_with_asked(query: Query, chosen: list[Candidate]) -> list[Candidate]:
    """The answer leads with what was asked, then the context in document order: the
    sentences stating the asked fact (the number, the deadline, the places a pilot covers),
    best match first; failing those, the best-matching sentence that is not its clause's
    heading (创新医防协同机制 names the topic; the sentence after it answers)."""
    if asks_fact(query):
        first = [c for c in chosen if states_asked(query, c.text)]
    elif query.where:  # reordered only: a sentence naming a place is not added for it
        first = [c for c in chosen if states_place(query, c.text)]
    else:
        first = []
    if not first:
        body = [c for c in chosen if not is_heading(c)]
        first = [max(body, key=lambda c: c.score)] if body else []
    if asks_name(query):  # the closest post first: 常务副总指挥：… before 总 指 挥：…
        first.sort(key=lambda c: (-names_who(query, c.text), -c.score))
    else:
        first.sort(key=lambda c: -c.score)  # stable: equal scores keep document order
    return first + [c for c in chosen if c not in first]


def with_body(chosen: list[Candidate]) -> list[Candidate]:
    """A clause's heading says what the clause is about, not what it rules: where it is
    the only sentence chosen from its clause, the clause's next sentence joins it. So does a
    next sentence that details the chosen one (规范医共体医保结余资金使用。 / 其中30%用于…)."""
    added = []
    for cand in chosen:
        following = clause_sentences(cand.block.scored.clause.text)[cand.position + 1:][:1]
        if is_heading(cand) and not any(c.block is cand.block and not is_heading(c)
                                        for c in chosen):
            added += [Candidate(cand.block, cand.position + 1, s, 0.0) for s in following]
        elif following and _DETAILS.match(following[0]) and not any(
                c.block is cand.block and c.position == cand.position + 1 for c in chosen):
            added.append(Candidate(cand.block, cand.position + 1, following[0], 0.0))
    if not added:
        return chosen
    return sorted(chosen + added, key=lambda c: (c.block.marker, c.position))


def is_heading(candidate: Candidate) -> bool:
    """The sentence is its clause's heading (（五）创新医防协同机制。), which names a topic.
    (An article's first sentence, 第十二条 血站对献血者必须…, is a rule: never a heading.)"""
    clause = candidate.block.scored.clause
    if not clause.heading or not clause.path or is_article_label(clause.path[-1]):
        return False
    return candidate.text.strip("。；：: ") == clause.heading.strip("。；：: ")


def _two_versions(blocks: list[ContextBlock]) -> tuple[ContextBlock, ContextBlock] | None:
    """One article in two versions, newer first: the pipeline's routed pair for
    修订后…有什么变化."""
    routed = [b for b in blocks if b.scored.routed][:2]
    if len(routed) < 2:
        return None
    new, old = sorted(routed, key=lambda b: b.doc.superseded_by is not None)
    same_work = new.doc.work_id is not None and new.doc.work_id == old.doc.work_id
    return (new, old) if same_work and new.doc.doc_id != old.doc.doc_id else None


def change_sentences(new: ContextBlock, old: ContextBlock) -> list[str]:
    """The sentences each wording has and the other lacks (the first one when none
    differ), quoted, each citing its version."""
    new_sentences, old_sentences = (
        clause_sentences(strip_leading_marker(b.scored.clause.text)) for b in (new, old))
    changed_new = [s for s in new_sentences if s not in old_sentences] or new_sentences[:1]
    changed_old = [s for s in old_sentences if s not in new_sentences] or old_sentences[:1]
    head = f"{new.doc.short_ref}{new.scored.clause.label}规定："
    before = f"修订前，{old.doc.short_ref}{old.scored.clause.label}规定："
    return ([_quote(head if i == 0 else "", s, new) for i, s in enumerate(changed_new[:3])]
            + [_quote(before if i == 0 else "", s, old) for i, s in enumerate(changed_old[:3])])


def _quote(lead: str, sentence: str, block: ContextBlock) -> str:
    return f"{lead}“{sentence.strip().rstrip('。；')}”[{block.marker}]。"


def cited_blocks(context: Context, evidence: dict[str, float],
                 thresholds: tuple[float, float, float], query: Query,
                 part_answers: tuple[str, ...] = ()) -> list[ContextBlock]:
    """The best block by evidence, the other blocks of its document whose evidence reaches
    the first threshold, the best block of each other document reaching the second (or the
    third, when it restates a sentence of the best block), and the blocks answering a part
    of the question (`part_answers`).

    A question asking across documents in so many words (哪些文件, 各地) lowers the bar
    for other documents' clauses by half; it does not decide coverage on its own. A law
    and the regulation that restates it (不得招用未满十六周岁…) both answer, though the
    question's words fit one of them better.
    """
    same, other, restated = thresholds
    score = {b.marker: evidence.get(b.scored.clause.clause_id, 0.0) for b in context.blocks}
    best = max(context.blocks, key=lambda b: (score[b.marker], -b.marker))
    other *= 0.5 if query.spanning else 1.0
    firsts: dict[str, ContextBlock] = {}  # each document's best block
    for block in sorted(context.blocks, key=lambda b: (-score[b.marker], b.marker)):
        firsts.setdefault(block.doc.doc_id, block)
    chosen = [best]
    for block in context.blocks:
        if block is best:
            continue
        if block.scored.clause.clause_id in part_answers:
            keep = True
        elif block.doc.doc_id == best.doc.doc_id:
            keep = score[block.marker] >= same * (0.5 if query.spanning else 1.0)
        elif firsts[block.doc.doc_id] is not block:
            keep = False
        else:
            bar = other
            if restated < other and restates(best.scored.clause.text, block.scored.clause.text):
                bar = restated
            keep = score[block.marker] >= bar
        chosen += [block] if keep else []
    return sorted(chosen, key=lambda b: b.marker)


def _from_evidence(query: Query, blocks: list[ContextBlock]) -> list[Candidate]:
    if len({b.doc.doc_id for b in blocks}) > 1:
        return _per_document(query, blocks)
    return pick_single(candidates(query, blocks)) or opening(blocks[0], 2)


def _per_document(query: Query, blocks: list[ContextBlock]) -> list[Candidate]:
    """The best sentence of each document (its opening when no sentence shares a word)."""
    found = candidates(query, blocks)
    chosen = []
    for doc_id in dict.fromkeys(b.doc.doc_id for b in blocks):
        own = [c for c in found if c.block.doc.doc_id == doc_id]
        first = next(b for b in blocks if b.doc.doc_id == doc_id)
        chosen += [max(own, key=lambda c: c.score)] if own else opening(first, 1)
    return sorted(chosen[:MULTI_DOC_LIMIT], key=lambda c: (c.block.marker, c.position))


class ExtractiveBackend:
    """Verbatim sentences from the context; never calls a model."""

    name = "extractive"
    needs_token_budget = False

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        evidence = request.evidence or None
        yield from compose(request.query or request.question, request.context, evidence,
                           request.cite_threshold, request.doc_cite_threshold,
                           request.part_answers, request.restated_cite_threshold)


@BACKENDS.register("extractive")
def _make(settings: Settings) -> ExtractiveBackend:
    return ExtractiveBackend()
