"""Example questions for the chat page, drawn from the documents actually in the index.

Questions written for the sample corpus are offered when their document is indexed; for
any other document a question about the document itself is generated, so the examples
never point at something the index does not hold.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.models import DocumentInfo

# (文号 or title of the document that answers it, question)
CURATED: list[tuple[str, str]] = [
    ("川办函〔2021〕56号", "四川省在哪些城市开展“三医”联动和系统集成改革试点？"),
    ("开州府办发〔2020〕109号", "开州区DRG付费改革在哪些医院试点？"),
    ("川卫发〔2017〕65号", "2017年底四川全省家庭医生签约服务覆盖率要达到多少？"),
    ("川办函〔2021〕56号", "川办函〔2021〕56号现在还有效吗？"),
    ("开州府办发〔2020〕109号", "开州区改革完善疾病预防控制体系的牵头单位是谁？"),
]
MAX_EXAMPLES = 5


def example_questions(documents: Sequence[DocumentInfo], limit: int = MAX_EXAMPLES) -> list[str]:
    refs = {d.number for d in documents if d.number} | {d.title for d in documents}
    chosen = [question for ref, question in CURATED if ref in refs]
    for doc in documents:
        if len(chosen) >= limit:
            break
        generated = f"{doc.short_ref}是哪个单位印发的？"
        if not any(doc.short_ref in q for q in chosen):
            chosen.append(generated)
    return chosen[:limit]
