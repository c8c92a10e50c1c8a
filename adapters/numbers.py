"""Reading whole numbers that come from outside: paths, forms, button data, commands.

Python's ``int()`` and ``str.isdigit()`` accept far more than a person types: ``"²".isdigit()`` is
true (and ``int("²")`` then fails), ``int("٣")`` is 3, ``int(" +7 ")`` is 7, and a 25-digit id
overflows SQLite's integers and PostgreSQL's ``integer`` columns. Everything from outside goes
through :func:`strict_int` (text) or :func:`json_int` (a decoded JSON value) instead, so a number
that is not plain ASCII digits within range is refused before it can reach the database.
"""

from __future__ import annotations

import re

# Every id column is a 32-bit signed integer on PostgreSQL.
INT32_MAX = 2**31 - 1

_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")


def strict_int(text: object, *, low: int = 0, high: int = INT32_MAX) -> int | None:
    """The number ``text`` spells in ASCII digits, if it lies in ``low..high``; otherwise None.

    No sign, no spaces, no other digits (``²``, ``٣``), no underscores: callers strip the
    surrounding whitespace they are willing to forgive.
    """
    if not isinstance(text, str) or not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def strict_id(text: object) -> int | None:
    """A database id (1 … 2³¹−1) from text, or None."""
    return strict_int(text, low=1)


def json_int(value: object, *, low: int = 1, high: int = INT32_MAX) -> int | None:
    """A whole number from decoded JSON (not a bool, not a float), if in range; otherwise None."""
    if type(value) is not int or not low <= value <= high:
        return None
    return value
