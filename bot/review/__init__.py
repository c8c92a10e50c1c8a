"""The researcher review workspace: sign-in, access rules, search, coding, dashboard, exports.

The web pages live in ``bot/web/review.py`` (under ``/review``); the command line in
``bot/cli/user.py`` and ``bot/cli/export.py``.
"""
