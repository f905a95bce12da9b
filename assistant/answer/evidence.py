"""Evidence: how well one retrieved clause answers the Query, by meaning and by words.

For each candidate clause, once per ask, `assess` computes
* the hard constraints the clause fails (a place, year or asked-for quantity of the
  question that its evidence text lacks): a clause failing one is never evidence;
* features: lexical coverage of the question's content words in the clause's evidence
  (metadata, headings, text) and in its text alone, the best single sentence's coverage,
  the longest question term the evidence lacks, the BM25 score and how far it is behind
  the best candidate's, whether the clause is a preamble, the embedder's question↔clause
  similarity (`ScoredClause.dense_score`) and how far it is behind the best candidate's,
  and the retrieval rank;
* a probability that the clause answers the question: a logistic regression over the
  features, fitted on the gold set (`python -m assistant.evaluation.fit_evidence`), its
  coefficients in `evidence_model.json` beside this module (inspectable, hashed into
  the settings fingerprint);
* for the gate, a question-level model over the top candidates (`EvidenceModel.gate_score`):
  is the question answerable at all, the best clause's probability being one input.

When retrieval did not compute the dense similarity (a lexical-only query), or the index
uses another embedder than the one the model was fitted with (its similarities are on
another scale), the model's lexical variant is used, with its own thresholds: it was
fitted on the same rows without the dense features.
A clause the question names (文号 + label), quotes verbatim, or that defines the term the
question asks the meaning of (本条例所称工资总额，是指…) scores 1.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from assistant.answer.context import article_lead_in, metadata_lines
from assistant.answer.judge import DEFAULT_JUDGE, Judge, JudgeError, file_digest, judge_passage
from assistant.lexicon import (
    group_named,
    issuer_met,
    matching_text,
    name_form,
    opposite_scope,
    phrase_share,
    post_asked,
    role_met,
    states_nothing,
    states_quantity_of,
    states_value,
)
from assistant.models import ScoredClause
from assistant.query import (
    Query,
    content_terms,
    defines,
    names_who,
    narrower_place,
    place_forms,
    states_number,
    states_quantity,
    states_time,
)
from assistant.settings import Settings

DEFAULT_MODEL = Path(__file__).with_name("evidence_model.json")
# Fitted with the judge's probability as a feature (`judge`, and `max_judge` in the gate).
JUDGE_MODEL = Path(__file__).with_name("evidence_model_judge.json")
# The judge reads the first JUDGED admissible candidates (retrieval order); the rest get 0:
# each pair costs ~36 ms on 2 cores (docs/judge.md), and a clause ranked lower is rarely cited
# (4 and 6 gave the same citations on the 282 new-document questions; 6 cost 35 ms more).
JUDGED = 4
FEATURES = ("coverage", "text_coverage", "sentence_coverage", "missing", "sparse", "sparse_gap",
            "preamble", "coverage_gap", "sentence_gap", "doc_first", "dense", "dense_gap", "rank",
            "phrase", "phrase_gap")
LEXICAL_FEATURES = tuple(f for f in FEATURES if not f.startswith("dense"))
# The question as a whole, over the gate's candidates: answerable at all? A near-miss (a
# detail no clause states) has a best clause that looks like a colloquial question's.
# Few and monotone, so the fit cannot extrapolate (a log of the best score, or coverage
# and text coverage together, got opposite signs and made a hopeless candidate look fine).
ANSWER_FEATURES = ("best", "best_text_coverage", "best_missing", "min_missing", "admitted",
                   "max_dense", "max_focus")
LEXICAL_ANSWER_FEATURES = tuple(f for f in ANSWER_FEATURES if not f.endswith("dense"))
JUDGE_FEATURES = ("judge",)
JUDGE_ANSWER_FEATURES = ("max_judge",)
_SENTENCE_RE = re.compile(r"[^。；！？!?\n]+")


@dataclass(frozen=True)
class LogisticModel:
    """p = sigmoid(intercept + Σ coef·(x − mean)/scale) over the named features."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept + sum(c * (values[f] - m) / s for f, m, s, c in
                                 zip(self.features, self.mean, self.scale, self.coef))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": list(self.mean),
                "scale": list(self.scale), "coef": list(self.coef), "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: dict) -> LogisticModel:
        return cls(tuple(data["features"]), tuple(data["mean"]), tuple(data["scale"]),
                   tuple(data["coef"]), float(data["intercept"]))


@dataclass(frozen=True)
class EvidenceModel:
    """The full model, its lexical-only variant and the thresholds fitted with them.

    threshold: the gate answers when the best candidate's probability reaches it;
    cite_threshold: a further clause (another document's included) is cited only when
    its own probability reaches this.
    """

    full: LogisticModel
    lexical: LogisticModel
    threshold: float
    cite_threshold: float
    note: str = ""
    embedder: str | None = None  # whose similarities `full` was fitted on
    # (gate, cite, doc_cite, clause, restated_cite) for `lexical`
    lexical_thresholds: tuple[float, ...] | None = None
    # Another document's best clause is cited at this probability (None: cite_threshold).
    doc_cite_threshold: float | None = None
    # Question-level answerability over the candidates; when set, `threshold` cuts its
    # probability instead of the best clause's.
    answerable: LogisticModel | None = None
    lexical_answerable: LogisticModel | None = None
    # With `answerable`: the best clause's probability must still reach this (a question
    # unlike any the answerability model saw, sharing no word with its clauses, is refused).
    clause_threshold: float = 0.0
    # The judge whose probability is the `judge` feature (None: fitted without one).
    judge: str | None = None
    # Another document's best clause that restates the best clause (lexicon.restates) is
    # cited at this probability (None: at the other-document threshold).
    restated_cite_threshold: float | None = None

    def gate_score(self, top: list[Evidence]) -> float:
        """The gate's score for these candidates (their scores already set)."""
        best = max(e.score for e in top)
        dense = any(e.features.get("dense") is not None for e in top)
        model = self.answerable if dense else self.lexical_answerable
        if model is None or any(e.named for e in top):
            return best
        if best < self.clause_threshold:
            return best * self.threshold / max(self.clause_threshold, 1e-9)  # under the cut
        return model.probability(answer_features([e.features for e in top],
                                                 [e.score for e in top]))

    @property
    def other_document_threshold(self) -> float:
        return self.cite_threshold if self.doc_cite_threshold is None else self.doc_cite_threshold

    def probability(self, values: dict[str, float]) -> float:
        model = self.full if values.get("dense") is not None else self.lexical
        return model.probability(values)

    def lexical_only(self) -> EvidenceModel:
        """The lexical variant with its own thresholds: for another embedder's similarities
        (they are not on the scale `full` was fitted on) or a search without the dense leg."""
        gate, cite, *rest = self.lexical_thresholds or (self.threshold, self.cite_threshold)
        rest += [None] * (3 - len(rest))
        return replace(self, full=self.lexical, threshold=gate, cite_threshold=cite,
                       doc_cite_threshold=rest[0], answerable=self.lexical_answerable,
                       clause_threshold=self.clause_threshold if rest[1] is None else rest[1],
                       restated_cite_threshold=rest[2])

    def for_search(self, embedder: str, retrieved: list[ScoredClause]) -> EvidenceModel:
        dense = any(s.dense_score is not None for s in retrieved)
        return self if dense and embedder == (self.embedder or embedder) else self.lexical_only()

    def to_json(self) -> dict:
        return {"_note": self.note, "embedder": self.embedder, "threshold": self.threshold,
                "cite_threshold": self.cite_threshold,
                "doc_cite_threshold": self.doc_cite_threshold,
                "restated_cite_threshold": self.restated_cite_threshold,
                "clause_threshold": self.clause_threshold,
                "lexical_thresholds": list(self.lexical_thresholds or ()) or None,
                "full": self.full.to_json(), "lexical": self.lexical.to_json(),
                "judge": self.judge,
                "answerable": self.answerable.to_json() if self.answerable else None,
                "lexical_answerable": (self.lexical_answerable.to_json()
                                       if self.lexical_answerable else None)}


def load_model(path: Path | str | None = None) -> EvidenceModel:
    path = Path(path or DEFAULT_MODEL)
    return _load(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _load(path: str, _mtime: int) -> EvidenceModel:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    lexical = data.get("lexical_thresholds")
    answerable, lexical_answerable = (
        LogisticModel.from_json(data[key]) if data.get(key) else None
        for key in ("answerable", "lexical_answerable"))
    return EvidenceModel(LogisticModel.from_json(data["full"]),
                         LogisticModel.from_json(data["lexical"]), float(data["threshold"]),
                         float(data["cite_threshold"]), data.get("_note", ""),
                         data.get("embedder"), tuple(lexical) if lexical else None,
                         data.get("doc_cite_threshold"), answerable, lexical_answerable,
                         float(data.get("clause_threshold") or 0.0), data.get("judge"),
                         data.get("restated_cite_threshold"))


def model_path(settings: Settings) -> Path:
    """The evidence model the settings name: explicit, else the one fitted with the judge
    they name (or without one)."""
    if settings.answer.evidence_model:
        return Path(settings.answer.evidence_model)
    return DEFAULT_MODEL if settings.answer.judge == "none" else JUDGE_MODEL


def model_digest(path: Path | str | None = None) -> str:
    """Short hash of the model file: part of the settings fingerprint (once per version of
    the file: every answer carries it)."""
    return file_digest(path or DEFAULT_MODEL)


def answer_fingerprint(settings: Settings) -> str:
    """The settings fingerprint of an answer: the settings plus the evidence model's and
    the judge's digests."""
    digests = {"evidence": model_digest(model_path(settings))}
    if settings.answer.judge != "none":  # off: the hash is the one from before judges
        digests["judge"] = settings.answer.judge + ":" + file_digest(
            settings.answer.judge_model or DEFAULT_JUDGE)
    return settings.fingerprint(**digests)


def answer_features(features: list[dict], scores: list[float]) -> dict[str, float]:
    """The question-level features over the gate's candidates (clause features, scores)."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    best = features[order[0]]
    dense = [f["dense"] for f in features if f.get("dense") is not None]
    return {
        "best": scores[order[0]], "log_best": math.log(scores[order[0]] + 1e-4),
        "second": scores[order[1]] if len(order) > 1 else 0.0,
        "best_coverage": best["coverage"], "best_text_coverage": best["text_coverage"],
        "best_sentence_coverage": best["sentence_coverage"], "best_missing": best["missing"],
        "best_sparse": best["sparse"],
        "max_missing": max(f["missing"] for f in features),
        "min_missing": min(f["missing"] for f in features),
        "max_coverage": max(f["coverage"] for f in features),
        "best_dense": best.get("dense") or 0.0, "max_dense": max(dense, default=0.0),
        "admitted": best.get("admitted", 1.0),
        # Does any candidate mention what the question word asks about (夜班补贴标准)?
        "max_focus": max(f.get("focus_coverage", 1.0) for f in features),
        "max_judge": max(f.get("judge", 0.0) for f in features),
    }


@dataclass
class Evidence:
    """One candidate clause judged against the Query."""

    scored: ScoredClause
    rank: int
    unmet: list[str]
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    named: bool = False  # the question named this clause or quotes its words
    # Fails at most the constraints on what the answer states (the asked quantity's unit
    # family, the group, issuer or programme named): the gate model's `admitted` share was
    # fitted on the place, year and number constraints alone, and counts these candidates.
    on_topic: bool = True

    @property
    def admissible(self) -> bool:
        return not self.unmet


def evidence_text(scored: ScoredClause) -> str:
    clause = scored.clause
    return "\n".join([*metadata_lines(scored.doc), *clause.context, clause.label, clause.text])


# Share (by length) of a follow-up's carried-over topic a clause must state: one generic
# word of five (开展) may be missing; the topic itself (三医联动) may not.
CARRIED_MIN = 0.75


def coverage(terms, evidence: str, query: Query | None = None) -> float:
    """Length-weighted share of `terms` that occur in `evidence` (with `query`, a term also
    counts when a formal word standing for it occurs: 社保 → 社会保险)."""
    terms = list(terms)
    return _share(terms, query.covered(terms, evidence) if query
                  else {t for t in terms if t in evidence})


def unmet_constraints(query: Query, evidence: str, own_text: str | None = None) -> list[str]:
    """Places, years, stated numbers and asked-for quantities (多少元) the query names that
    `evidence` lacks, and, for a question asking an amount (多少, 多久), a number in the
    clause's own words (`own_text`: its context and text, not the metadata's dates); then
    the group, issuer and document or programme it names (`subject_unmet`)."""
    missing = [p for p in query.places if not any(f in evidence for f in place_forms(p))]
    if query.carried and coverage(query.carried, evidence, query) < CARRIED_MIN:
        stated = query.covered(query.carried, evidence)
        missing.append("上一问所问的" + "、".join(t for t in query.carried if t not in stated))
    missing += _quantity_unmet(query, evidence, own_text)
    if query.when and own_text is not None and not states_time(own_text):
        missing.append("所问的时间")
    missing += [f"{y}年" for y in query.years if y not in evidence]
    missing += [n for n in query.numbers if not states_value(evidence, n)]
    return missing + subject_unmet(query, evidence)


# How a refusal names the quantity asked for (lexicon.QUANTITY_ASKED's families).
QUANTITY_NAMES = {
    "days": "天数或期限",
    "hours": "小时数",
    "months": "月数",
    "years": "年数",
    "persons": "人数",
    "money": "金额",
    "fine": "罚款数额",
    "ratio": "比例",
    "age": "年龄",
    "cases": "病例数",
    "duration": "时长或期限",
    "temperature": "温度",
    "volume": "容量",
    "weight": "重量",
    "length": "距离或长度",
    "area": "面积",
}


def _quantity_unmet(query: Query, evidence: str, own_text: str | None) -> list[str]:
    """The asked quantity the clause does not state: by unit family when the question asks
    one in plain words (最少配几个人 → a number of persons, 不少于2名), else by the unit it
    names (多少张) or any number at all (多少, 第几)."""
    if query.quantity and own_text is not None:
        if states_quantity_of(own_text, query.quantity):
            return []
        return [f"所问的{QUANTITY_NAMES.get(query.quantity, '数量')}"]
    missing = []
    if query.amount and not query.units and own_text is not None and not states_number(own_text):
        missing.append("所问的数量或期限")
    return missing + [f"以“{u}”计的数量" for u in query.units if not states_quantity(evidence, u)]


def _answer_constraints(query: Query, evidence: str) -> set[str]:
    """The unmet constraints of issue 26 (quantity family, subject) for this evidence."""
    family = {f"所问的{QUANTITY_NAMES.get(query.quantity, '数量')}"} if query.quantity else set()
    return family | set(subject_unmet(query, evidence))


def subject_unmet(query: Query, evidence: str) -> list[str]:
    """The group (企业职工), issuer (国家医保局) and document or programme (健康中国2030规划纲要)
    the question names that the clause and its document's metadata (`evidence`) do not."""
    missing = [f"所问的对象“{r}”" for r in query.roles if not role_met(r, evidence)]
    missing += [f"发文机关“{i}”" for i in query.issuers if not issuer_met(i, evidence)]
    named = name_form(evidence)
    missing += [f"《{t}》" for t in query.titles if name_form(t) not in named]
    # The document's title and issuer (metadata_lines), for a programme described in words.
    heading = name_form("".join(re.findall(r"^(?:标题|发文机关)：(.*)$", evidence, re.MULTILINE)))
    return missing + [f"《{p}》" for p in query.programmes
                      if not _names_programme(p, named, heading)]


def body_unmet(query: Query, scored: ScoredClause) -> list[str]:
    """The places whose body the question asks about (均安镇蚊媒指挥部) that neither the
    clause's document (title, issuer) nor its headings name: a 顺德区 roster mentioning a
    均安镇 official does not say who leads 均安镇's command."""
    doc, clause = scored.doc, scored.clause
    head = "\n".join([doc.title or "", doc.issuer or "", *clause.context, clause.heading or ""])
    return [f"{p}的机构" for p in query.body_places
            if not any(f in head for f in place_forms(p))]


def substance_unmet(query: Query, scored: ScoredClause) -> list[str]:
    """A clause stating no rule of its own (a heading, a list of attachments) unless the
    question names it or asks about attachments; a clause about the opposite scope
    (机构内 for a question about 机构外会诊)."""
    clause = scored.clause
    missing = []
    nothing = states_nothing(clause.path, clause.text)
    if nothing and not scored.routed and not ("附件" in query.text and "附件" in nothing):
        missing.append(f"该条{nothing}")
    if scope := opposite_scope(query.text, clause.text):
        missing.append(f"所问的“{scope}”")
    return missing


def _names_programme(programme: str, named: str, heading: str) -> bool:
    """The evidence names the programme, or its document's title and issuer hold every word
    of a description of it (海南州医疗卫生服务体系实施方案 for 海南州's
    关于进一步改革完善医疗卫生服务体系的实施方案)."""
    name = name_form(programme)
    return name in named or all(t in heading for t in content_terms(name))


def features_of(query: Query, scored: ScoredClause, rank: int, evidence: str,
                best: tuple[float | None, float]) -> dict:
    """The clause's features; `best` is the top dense and BM25 score among the candidates:
    how far a clause is behind the best one says more than its raw score."""
    sentences = _SENTENCE_RE.findall(scored.clause.text)
    # Each term is looked up in the evidence once; a term the clause's text lacks is in
    # none of its sentences.
    in_evidence = query.covered(dict.fromkeys((*query.terms, *query.focus)), evidence)
    in_text = query.covered(query.terms, scored.clause.text)
    absent = [len(t) for t in query.terms if t not in in_evidence]
    sparse = _log_sparse(scored)
    dense = scored.dense_score
    return {
        "coverage": _share(query.terms, in_evidence),
        # For the gate model only (`answer_features`); 1 when the question has no focus.
        "focus_coverage": _share(query.focus, in_evidence) if query.focus else 1.0,
        "text_coverage": _share(query.terms, in_text),
        "sentence_coverage": max((_share(query.terms, query.covered(in_text, s))
                                  for s in sentences), default=0.0),
        # A long specific term the clause never mentions (电子邮箱, 夜班补贴) marks a near-miss.
        "missing": min(max(absent, default=0), 4) / 4,
        "sparse": sparse,
        "sparse_gap": sparse - best[1],
        "preamble": float(scored.clause.kind == "preamble"),
        # Relative to the other candidates (set by `assess`): behind the best coverage, and
        # whether this is its document's first candidate (the one an answer would cite).
        "coverage_gap": 0.0,
        "sentence_gap": 0.0,
        "doc_first": 0.0,
        "admitted": 1.0,  # share of the candidates meeting the question's constraints
        "dense": dense,
        "dense_gap": None if dense is None or best[0] is None else dense - best[0],
        "rank": 1.0 / (1 + rank),
        "phrase": phrase_share(query.text, matching_text(evidence)),
        "phrase_gap": 0.0,
    }


def _share(terms, covered) -> float:
    """The length-weighted share of `terms` that are in `covered` (the terms found)."""
    total = sum(len(t) for t in terms)
    return sum(len(t) for t in terms if t in covered) / total if total else 0.0


def _log_sparse(scored: ScoredClause) -> float:
    return math.log1p(max(scored.sparse_score or 0.0, 0.0))


def assess(query: Query, retrieved: list[ScoredClause], model: EvidenceModel,
           judge: Judge | None = None) -> list[Evidence]:
    """Every retrieved clause judged once: constraints, features, probability (with the
    judge's probability as a feature when the model was fitted with one)."""
    if model.judge and judge is None:
        raise JudgeError(f"this evidence model was fitted with the judge {model.judge!r}; "
                         "set ASSISTANT_ANSWER__JUDGE to it, or use a model fitted without")
    judged = []
    dense = [s.dense_score for s in retrieved if s.dense_score is not None]
    best = (max(dense) if dense else None, max((_log_sparse(s) for s in retrieved), default=0.0))
    for rank, scored in enumerate(retrieved):
        text = evidence_text(scored)
        # An article's lead-in in a 项's context (第十八条 有下列行为之一的，…罚款：) is the
        # 项's own words; the title and headings are not.
        own = "\n".join([*filter(None, [article_lead_in(scored.clause)]), scored.clause.text])
        unmet = (unmet_constraints(query, text, own) + body_unmet(query, scored)
                 + substance_unmet(query, scored))
        item = Evidence(scored, rank, unmet)
        item.on_topic = set(item.unmet) <= _answer_constraints(query, text)
        item.features = features_of(query, scored, rank, text, best)
        item.named = (scored.routed or _quotes_verbatim(query, scored.clause.text)
                      or bool(query.defined and defines(scored.clause.text, query.defined)))
        judged.append(item)
    _narrower_places(query, judged)
    _roster_named(query, judged)
    _relative_features(judged)
    if judge is not None:
        _judge_features(query, judged, judge)
    for item in judged:
        if item.named and item.admissible:
            item.score = 1.0
        elif item.admissible:
            item.score = model.probability(item.features)
    return judged


def _narrower_places(query: Query, judged: list[Evidence]) -> None:
    """A document about a place below the one asked (a district's notice for a question
    about its city) does not answer while a document of the asked place is retrieved: the
    city's own notice is cited, not the district's copy of it."""
    below = {}
    for item in judged:
        doc = item.scored.doc
        if doc.doc_id not in below:
            below[doc.doc_id] = narrower_place(query, doc.title, doc.region)
    # The asked level's own document is among the candidates (its clause may fail another
    # constraint: then the question is refused rather than answered for another place).
    if not any(below[item.scored.doc.doc_id] is None
               and not set(query.places) & set(item.unmet) for item in judged):
        return
    for item in judged:
        if (place := below[item.scored.doc.doc_id]) is not None:
            item.unmet.append(f"所问为{'、'.join(query.places)}，该文件针对{place}")


def _roster_named(query: Query, judged: list[Evidence]) -> None:
    """A question asking who holds a post (组长是谁, 灭蚊组谁负责) is answered by a roster line
    naming that post (组 长：陈影然) when a candidate has one; the others (副组长：…, the list
    of groups) are then not evidence. A duty stated in prose (由所在单位负责) has no roster
    line: where no candidate has one, nothing changes. A post the question names (组长由谁
    担任) must be in the clause at all, roster line or prose (组长由分管领导担任)."""
    if not query.who or query.quantity or query.units or query.amount or query.when:
        return
    asked = post_asked(query.text)
    if asked:  # a clause never naming the post asked (组长) cannot say who holds it
        post, words = asked
        texts = [matching_text(evidence_text(e.scored)) for e in judged]
        group = group_named(words, texts) if words else None
        for item, text in zip(judged, texts):
            if not item.admissible:
                continue
            if post not in matching_text(item.scored.clause.text):
                item.unmet.append(f"所问的职务“{post}”")
            elif group and group not in text:
                item.unmet.append(f"所问的“{group}”")
    naming = [any(names_who(query, line) > 0 for line in e.scored.clause.text.splitlines())
              for e in judged]
    if not any(named and e.admissible for named, e in zip(naming, judged)):
        return
    for named, item in zip(naming, judged):
        if item.admissible and not named:
            item.unmet.append("未写明所问的人选")


def _judge_features(query: Query, judged: list[Evidence], judge: Judge) -> None:
    """The judge's probability for the first JUDGED admissible candidates, 0 for the rest."""
    read = [e for e in judged if e.admissible][:JUDGED]
    scores = judge.score(query.text, [judge_passage(e.scored.clause) for e in read])
    for item in judged:
        item.features["judge"] = 0.0
    for item, score in zip(read, scores):
        item.features["judge"] = score


def _relative_features(judged: list[Evidence]) -> None:
    """Gaps to the best candidate's coverage (inadmissible ones included: a clause far behind
    one that fails a constraint is a near-miss's), and each document's first admissible one."""
    best_cov = max((e.features["coverage"] for e in judged), default=0.0)
    best_sent = max((e.features["sentence_coverage"] for e in judged), default=0.0)
    best_phrase = max((e.features["phrase"] for e in judged), default=0.0)
    seen: set[str] = set()
    admitted = len([e for e in judged if e.on_topic]) / max(len(judged), 1)
    for item in judged:
        item.features["admitted"] = admitted
        item.features["coverage_gap"] = item.features["coverage"] - best_cov
        item.features["sentence_gap"] = item.features["sentence_coverage"] - best_sent
        item.features["phrase_gap"] = item.features["phrase"] - best_phrase
        doc = item.scored.clause.doc_id
        if item.admissible and doc not in seen:
            item.features["doc_first"] = 1.0
            seen.add(doc)


def _quotes_verbatim(query: Query, text: str) -> bool:
    return bool(query.quoted) and all(q in text for q in query.quoted)


def admissible_first(judged: list[Evidence]) -> list[Evidence]:
    """Clauses meeting the constraints first (in retrieval order), then the rest.

    A question about 开州区 is answered from a clause that mentions 开州区, even when
    retrieval ranked another region's similar clause higher.
    """
    return [e for e in judged if e.admissible] + [e for e in judged if not e.admissible]
