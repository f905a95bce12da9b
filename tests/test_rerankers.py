"""The reranker extension point: registry, settings, and a real (tiny) CrossEncoder.

No reranker model ships offline, so the test builds a tiny BERT cross-encoder, saves it
to a directory and loads it back the way a user's bge-reranker directory is loaded.
Its weights are random: the test checks the plumbing (load, score, re-order), not quality.
"""

import pytest

from assistant.errors import RegistryError
from assistant.models import Clause, DocumentInfo, ScoredClause
from assistant.query import analyse
from assistant.retrieval.rerankers import RERANKERS, RerankerError, get_reranker, rerank
from assistant.settings import Settings


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("sentence_transformers")
    directory = tmp_path_factory.mktemp("tiny-reranker")
    chars = sorted(set("四川省城市开展三医联动改革试点医保支付药品采购哪些在的是什么"))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizer(str(directory / "vocab.txt"))
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32, num_labels=1,
                                     max_position_embeddings=128, initializer_range=0.5)
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def _scored(n: int, text: str) -> ScoredClause:
    clause = Clause(
        clause_id=f"c{n}", doc_id="d", path=[f"{n}."], text=text, start=0, end=len(text)
    )
    return ScoredClause(clause=clause, doc=DocumentInfo(doc_id="d", title="t"), score=1.0 / n)


def test_off_by_default_and_registered():
    assert Settings().retrieval.reranker == "none" and get_reranker(Settings()) is None
    assert "cross-encoder" in RERANKERS.names()
    found = [_scored(1, "甲"), _scored(2, "乙")]
    assert rerank(analyse("试点"), found, Settings()) == found
    with pytest.raises(RegistryError, match="unknown reranker"):
        get_reranker(Settings(reranker="nope"))


def test_missing_model_directory_is_a_clear_error(tmp_path):
    with pytest.raises(RerankerError, match="ASSISTANT_RETRIEVAL__RERANKER_MODEL"):
        get_reranker(Settings(reranker="cross-encoder", reranker_model=tmp_path / "absent"))


def test_cross_encoder_from_a_local_directory_reorders_by_its_scores(tiny_cross_encoder):
    settings = Settings(reranker="cross-encoder", reranker_model=tiny_cross_encoder)
    reranker = get_reranker(settings)
    assert get_reranker(settings) is reranker  # loaded once per process
    texts = ["四川省在自贡市开展三医联动改革试点", "药品采购", "医保支付改革"]
    scores = reranker.score("四川省在哪些城市开展试点", texts)
    assert len(scores) == 3 and len(set(scores)) == 3
    found = [_scored(i + 1, t) for i, t in enumerate(texts)]
    found[2].routed = True  # a clause the question names stays first
    ranked = rerank(analyse("四川省在哪些城市开展试点"), found, settings)
    assert ranked[0] is found[2]
    rest = sorted(found[:2], key=lambda s: -reranker.score("四川省在哪些城市开展试点",
                                                           [s.clause.embed_text()])[0])
    assert ranked[1:] == rest
    assert Settings(reranker="cross-encoder").fingerprint() != Settings().fingerprint()
