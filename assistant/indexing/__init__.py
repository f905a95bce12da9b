"""The index's write side: layout, generations, builds and swaps (FAISS files or Milvus).

Readers (assistant/retrieval/) never import from here except `layout` (names and the
manifest both sides agree on) and `backends` (which backend the settings name).
Writers: `assistant.indexing.backends.write_index / remove_documents / reindex`.
"""
