"""Clients of the HTTP API for other frameworks (LangChain)."""
