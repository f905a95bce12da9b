"""Decoded text → `Document`: clean, read metadata, split into clauses."""

from __future__ import annotations

from pathlib import Path

from assistant.ingest.clean import clean_text
from assistant.ingest.collection import document_starts
from assistant.ingest.metadata import (
    Metadata,
    find_title,
    front_matter_date,
    is_org_line,
    issuance,
    issued_on,
    issued_text_title,
    markdown_title,
    metadata_box,
    own_number,
    parse_date,
    promulgated_title,
    published_stamp,
    region_of,
    status_of,
)
from assistant.ingest.parse import (
    PARAGRAPH_UNIT_LABEL,
    Layout,
    build_clauses,
    split_layout,
    split_run_in_headings,
)
from assistant.lexicon import (
    letterhead_names,
    news_markers,
    normalise_doc_number,
    run_in_signature,
    signature_line,
    unspace_letters,
)
from assistant.models import Clause, Document, Genre, stable_id


def build_document(text: str, source: str, *, encoding: str | None = None, fmt: str | None = None,
                   title_hint: str | None = None) -> Document:
    """Parse one document's decoded text. Never raises on odd input: problems become warnings.

    `title_hint` is a title the file format marks (an HTML <h1>); a 关于… title line in the
    header still wins over it.
    """
    cleaned = clean_text(text)
    paragraphs = split_run_in_headings(cleaned.paragraphs)
    layout = split_layout(paragraphs)
    meta = read_metadata(text, paragraphs, layout, source, title_hint)
    doc_id = stable_id(*identity(meta, source), length=12)
    offsets = _offsets(paragraphs)
    clauses, clause_warnings = build_clauses(
        doc_id, meta.title or source, paragraphs, offsets, layout
    )
    warnings = meta.warnings + clause_warnings
    if cleaned.duplicate_paragraphs:
        warnings.append(
            f"body printed twice: {cleaned.duplicate_paragraphs} repeated paragraphs dropped"
        )
    if not clauses:
        warnings.append("no clauses found")
    markers = news_markers(text)
    genre = genre_of(markers, meta.number, clauses)
    if genre:
        warnings.append(f"a news report ({'、'.join(markers[:2])}): searchable, "
                        "never cited as a rule")
    return Document(
        doc_id=doc_id,
        number=meta.number,
        title=meta.title or Path(source).stem,
        issuer=meta.issuer,
        signed=meta.signed,
        published=meta.published,
        effective=meta.effective,
        history=meta.history,
        status=meta.status,
        region=meta.region,
        rule_title=layout.rule_title,
        genre=genre,
        source=Path(source).name,
        text="\n".join(paragraphs),
        clauses=clauses,
        warnings=warnings,
        encoding=encoding,
        format=fmt,
    )


def build_documents(text: str, source: str, *, encoding: str | None = None,
                    fmt: str | None = None, title_hint: str | None = None) -> list[Document]:
    """One document per document the file holds: a scraped collection may run several
    together (`collection.document_starts`). The second and later get `source#2`, `#3` …"""
    paragraphs = clean_text(text).paragraphs
    starts = document_starts(paragraphs)
    if len(starts) == 1:
        return [build_document(text, source, encoding=encoding, fmt=fmt, title_hint=title_hint)]
    bounds = list(zip(starts, starts[1:] + [len(paragraphs)], strict=True))
    documents = []
    for number, (start, end) in enumerate(bounds, 1):
        name = source if number == 1 else f"{source}#{number}"
        doc = build_document("\n".join(paragraphs[start:end]), name, encoding=encoding, fmt=fmt,
                             title_hint=title_hint if number == 1 else None)
        note = f"split from a file holding {len(bounds)} documents (document {number})"
        documents.append(doc.model_copy(update={"warnings": doc.warnings + [note]}))
    return documents


def genre_of(markers: list[str], number: str | None, clauses: list[Clause]) -> Genre | None:
    """news: a text with no 文号 and no numbered clause that carries a news report's
    dateline or credits (`markers`, from `lexicon.news_markers`). A notice quoting a 记者
    keeps its numbering."""
    numbered = any(c.kind == "clause" and not PARAGRAPH_UNIT_LABEL.fullmatch(c.path[-1])
                   for c in clauses)
    return "news" if markers and not number and not numbered else None


def identity(meta: Metadata, source: str) -> list[str]:
    """What names a document: its 文号; else its title and the date of this text, so two
    versions of one law (same title, later 修订) are two documents and a re-ingest of the
    same text is the same one."""
    if meta.number:
        return [meta.number]
    latest = max((e.split(" ", 1)[0] for e in meta.history), default=None)
    when = meta.published or meta.signed
    version = when.isoformat() if when else latest
    return [meta.title or source] + ([version] if version else [])


def _offsets(paragraphs: list[str]) -> list[int]:
    offsets, position = [], 0
    for para in paragraphs:
        offsets.append(position)
        position += len(para) + 1  # the joining newline
    return offsets


def read_metadata(raw: str, paragraphs: list[str], layout: Layout, source: str,
                  title_hint: str | None = None) -> Metadata:
    """Metadata from the page's metadata box, the header lines and the signature block."""
    box = metadata_box(raw)
    header = [paragraphs[i] for i in layout.header]
    meta = Metadata()
    meta.number, repaired = own_number(box, header)
    if repaired:
        meta.warnings.append(f"文号 repaired to {meta.number}")
    title, title_org, draft = find_title(header, title_hint)
    issued = issued_text_title(header)
    if issued and not title_org:
        title = issued[0]
    meta.title = markdown_title(raw) or (title if title_org or _is_own_title(title) else None)
    meta.title = meta.title or promulgated_title(paragraphs) or title
    if meta.title is None:
        meta.warnings.append("no title found; using the file name")
    law = issuance(header)
    law_issuer, law_published, meta.effective, meta.history = (
        law.issuer, law.published, law.effective, law.history)
    signature_org, signature_date = _signature(paragraphs, layout)
    letterhead = _header_org(header)
    if letterhead and meta.title and meta.title.startswith(letterhead) and not title_org:
        letterhead = None  # the first line of a title set over two lines
    if letterhead and title_org and letterhead in title_org.split():
        letterhead = None  # a joint notice on the lead body's letterhead: the title names all
    meta.issuer = (box.get("发布机构") or box.get("发文机关") or letterhead
                   or title_org or law_issuer or signature_org or box.get("来源") or None)
    meta.signed = parse_date(box.get("成文日期", "")) or signature_date
    meta.published = (parse_date(box.get("发布日期", "")) or law_published
                      or published_stamp(header) or front_matter_date(raw) or issued_on(paragraphs))
    meta.status = status_of(box, header, draft, meta.title)
    meta.region = region_of(meta.issuer)
    return meta


def _is_own_title(title: str | None) -> bool:
    """A 关于… title, or a plain one that is not an order's heading (中华人民共和国国务院令)."""
    return bool(title) and not title.endswith("令")


def _header_org(header: list[str]) -> str | None:
    """The letterhead's issuer; two bodies on consecutive lines (joint issuance) are both named."""
    number_at = next((i for i, line in enumerate(header) if normalise_doc_number(line)), 0)
    stacked = letterhead_names(header[:number_at])
    if stacked:  # 某某局文件, or names stacked beside one 文件 (joint red header)
        return " ".join(stacked)
    for index, line in enumerate(header):
        if is_org_line(line):
            following = header[index + 1] if index + 1 < len(header) else ""
            if is_org_line(following) and following not in line and "关于" not in following:
                return f"{line} {following}"
            return line
    return None


def _signature(paragraphs: list[str], layout: Layout):
    if not layout.signatures:
        return None, None
    org_index, date_index = layout.signatures[0]
    if org_index == date_index:  # issuer and date on one line, or the date alone
        line = paragraphs[date_index]
        return signature_line(line) or run_in_signature(line) or (None, None)
    issuers = [unspace_letters(paragraphs[i]) for i in range(org_index, date_index)]
    return " ".join(issuers), parse_date(paragraphs[date_index])
