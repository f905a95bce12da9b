"""The Milvus backend: a collection behind an alias, that every replica reads."""
