"""Evaluations after an event: asking the ``evaluation`` prompt set and summarising it."""
