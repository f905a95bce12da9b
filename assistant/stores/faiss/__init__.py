"""The FAISS backend: dense vectors and BM25 files in generations under index_dir."""
