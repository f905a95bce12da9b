"""Grounded answers from retrieved clauses: judge → gate → context → backend → citations →
verification.

Entry points: `assistant.answer.pipeline.answer_question` and `stream_answer`, given the
typed `Query` and the clauses `assistant.retrieval.retrieve` found (the service calls both).
"""
