"""Citation markers: parse them, drop the ones we never handed out, render the rest.

The model only writes block markers ([1], [1][3], 【2】, [1,3]); the system resolves
each to its clause and renders the reference from clause metadata, so a 文号 in a
rendered citation always comes from the corpus. A 文号 the model writes itself is
checked against the corpus and flagged when unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.answer.context import Context, article_lead_in
from assistant.lexicon import find_doc_numbers
from assistant.models import Citation, Clause, DocumentInfo, ScoredClause

MARKER_RE = re.compile(r"[\[【［]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】］]")


def markers_in(text: str) -> list[int]:
    """Marker numbers in order of appearance, repeats removed."""
    found: list[int] = []
    for match in MARKER_RE.finditer(text):
        for part in re.split(r"[,，、]", match.group(1)):
            number = int(part)
            if number not in found:
                found.append(number)
    return found


def normalise_markers(text: str, valid: set[int]) -> tuple[str, int]:
    """Rewrite markers as [n][m]; drop those not in `valid`. Returns (text, dropped count)."""
    dropped = 0

    def fix(match: re.Match) -> str:
        nonlocal dropped
        numbers = [int(p) for p in re.split(r"[,，、]", match.group(1))]
        kept = [n for n in numbers if n in valid]
        dropped += len(numbers) - len(kept)
        return "".join(f"[{n}]" for n in kept)

    return MARKER_RE.sub(fix, text), dropped


def render(scored: ScoredClause) -> str:
    return render_reference(scored.doc, scored.clause)


def render_reference(doc: DocumentInfo, clause: Clause) -> str:
    """〔川办函〔2021〕56号 一、（一）〕, or as lawyers cite a title:
    〔《医疗机构管理条例》第二十九条〕."""
    ref = doc.short_ref
    if clause.in_rule and doc.rule_title:  # 〔卫医发〔2007〕66号《医师定期考核管理办法》第十四条〕
        ref = f"{doc.number}《{doc.rule_title}》" if doc.number else f"《{doc.rule_title}》"
    gap = (
        "" if ref.endswith(("》", "）")) else " "
    )  # 《》（…） close the name; a 文号 needs a space
    return f"〔{ref}{gap}{clause.label}〕"


def citation_for(marker: int, scored: ScoredClause) -> Citation:
    clause, doc = scored.clause, scored.doc
    return Citation(
        marker=marker, clause_id=clause.clause_id, doc_id=doc.doc_id, number=doc.number,
        title=doc.title, status=doc.status, path=clause.path, label=clause.label,
        text=clause.text, lead_in=article_lead_in(clause), rendered=render(scored),
        warning=doc.status_warning(),
        replaced_by=doc.replacement)


def citations_for(markers: Iterable[int], context: Context) -> list[Citation]:
    result = []
    for marker in markers:
        block = context.block(marker)
        if block is not None:
            result.append(citation_for(marker, block.scored))
    return result


def doc_numbers_in(text: str) -> list[str]:
    """Every 文号 written in `text`, normalised (the parser's own recogniser)."""
    return find_doc_numbers(text)


def unknown_doc_numbers(answer: str, known: Iterable[str]) -> list[str]:
    """文号 written in `answer` that neither name a corpus document nor appear in its text."""
    known_set = set(known)
    return [n for n in doc_numbers_in(answer) if not _matches_known(n, known_set)]


def _matches_known(number: str, known: set[str]) -> bool:
    # The regex may take a longer issuer prefix than the corpus spelling ("印发川办函〔…").
    return any(number == k or number.endswith(k) for k in known)
