"""Grounded answers: retrieve → gate → context → backend → citations → verification.

Entry points: `assistant.answer.pipeline.answer_question` and `stream_answer`.
"""
