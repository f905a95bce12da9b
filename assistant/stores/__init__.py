"""Index stores: one home per backend, read and write side together.

`base.py` holds the read contracts every backend opens into (`IndexReader`, the dense and
sparse legs); `backends.py` the `IndexBackend` protocol, its registry (`faiss`, `milvus`)
and the writers (`write_index`, `remove_documents`, `reindex`); `build.py`, `passages.py`,
`layout.py` and `sparse.py` (BM25) are shared; `faiss/` holds FAISS files in generations,
`milvus/` a Milvus collection behind an alias. Retrieval (assistant/retrieval/) reads
through `IndexReader` only; nothing here imports retrieval.
"""
