"""Problems in a study file: where (the path of the bad field) and what is wrong.

pydantic's validation errors are turned into problems here, in words an admin can act on:
``unknown key — did you mean 'phases'?`` rather than ``Extra inputs are not permitted``.
"""

from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str

    @property
    def path(self) -> str:
        return format_path(self.loc)


def format_path(loc: Loc) -> str:
    """``("partnerships", 1, "projects", 0)`` → ``partnerships[1].projects[0]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# ── pydantic errors as problems ──────────────────────────────────────────────────────────────


class BadDate(str):
    """What YAML took for a date but no calendar has (``2027-02-30``), kept as its text."""

    @property
    def reason(self) -> str:
        found = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", self.strip())
        if found is None:
            return f"{self} is not a date"
        year, month, day = (int(part) for part in found.groups())
        if not 1 <= month <= 12:
            return f"{self} is not a date: there is no month {month}"
        days = calendar.monthrange(year, month)[1]
        name = calendar.month_name[month]
        return f"{self} is not a date: {name} {year} has {days} days, not {day}"


def from_validation(exc: ValidationError, prefix: Loc, model: type[BaseModel]) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        message = str(error["msg"])
        if isinstance(error.get("input"), BadDate):
            message = error["input"].reason
        elif error["type"] == "extra_forbidden":
            message = "unknown key"
            known = _keys_at(model, loc[:-1])
            if known:
                close = difflib.get_close_matches(str(loc[-1]), known, n=1)
                message += f" — did you mean {close[0]!r}?" if close else ""
                message += f" (known keys: {', '.join(known)})"
        elif error["type"] == "missing":
            message = "required, but missing"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        elif error["type"] == "assertion_error":
            message = message.removeprefix("Assertion failed, ")
        problems.append(Problem(prefix + loc, message))
    return problems


def _plain(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, UnionType):
        args = [arg for arg in get_args(annotation) if arg is not NoneType]
        return args[0] if len(args) == 1 else None
    return annotation


def _keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the study file allows at ``loc`` inside ``model`` (for 'did you mean')."""
    current: Any = model
    for part in loc:
        current = _plain(current)
        if isinstance(part, int):
            args = get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            current = field.annotation if field else None
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return []
    current = _plain(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [field.alias or name for name, field in current.model_fields.items()]
    return []
