"""The study file: its schema, validation with field paths, idempotent loading, and views.

Other parts use :func:`check_study` (every problem, as ``FILE: path: message`` lines) and
:func:`load_study` (validate, then upsert in one transaction; raises ``StudyError``).
"""

from __future__ import annotations

from bot.study.load import LoadReport, load_study
from bot.study.validate import check_study, read_study

__all__ = ["LoadReport", "check_study", "load_study", "read_study"]
