"""Benchmarks and retrieval-quality measurement (`assistant bench`)."""
