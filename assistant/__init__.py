"""Policy Q&A assistant: answers from Chinese policy documents with clause-level citations."""

__version__ = "0.1.0"
