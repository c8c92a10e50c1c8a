"""Validating a study file: every problem at once, each with the path of the bad field.

A problem reads ``FILE: partnerships[1].projects[0].cycles[2].phases[1].ends_on: what is wrong
(line 88)``. The file is checked piece by piece (the study section, each partnership, each
project, each person), so that one bad field does not hide the problems elsewhere; then the
checks that span pieces run on every piece that parsed: duplicate slugs and keys, unknown people
in a team, phases outside their project's phase model, phases that overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.study.pieces import Pieces
from bot.study.problems import BadDate, Loc, Problem, from_validation
from bot.study.rules import cross_checks, prompt_checks, warnings
from bot.study.schema import StudyFile


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, except that ``09:30`` stays a string (YAML 1.1 reads it as a number)."""


_Loader.yaml_implicit_resolvers = {
    first: list(resolvers) for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _digit in "0123456789":
    _Loader.yaml_implicit_resolvers.setdefault(_digit, []).insert(
        0, ("tag:yaml.org,2002:str", re.compile(r"^\d{1,2}:\d\d(?::\d\d)?$"))
    )


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    """A date as YAML reads it; a day that does not exist (``2027-02-30``) is kept as a
    :class:`~bot.study.problems.BadDate`, reported at its field instead of stopping the read."""
    try:
        return loader.construct_yaml_timestamp(node)  # type: ignore[arg-type]
    except ValueError:
        return BadDate(str(node.value))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

# Files larger than this are refused before they are read (a study file is a few hundred KB).
MAX_STUDY_BYTES = 5 * 1024 * 1024


@dataclass
class Checked:
    """The outcome of checking one file: the parsed study (when valid) and every problem."""

    source: str
    study: StudyFile | None
    problems: list[str]
    raw: bytes = b""
    # things that are allowed but probably not meant (a project without a lead)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.study is not None


def check_study(path: str | Path) -> list[str]:
    """Every problem in the study file at ``path``, as ``FILE: path: message`` lines."""
    return read_study(path).problems


def read_study(path: str | Path) -> Checked:
    source = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_STUDY_BYTES:
            limit = MAX_STUDY_BYTES // (1024 * 1024)
            too_large = f"{size:,} bytes is too large for a study file (the limit is {limit} MB)"
            return Checked(source, None, [f"{source}: {too_large}"])
        raw = Path(path).read_bytes()
    except OSError as exc:
        return Checked(source, None, [f"{source}: cannot read the file: {exc.strerror or exc}"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(raw, exc.start)
        message = (
            f"{source}: line {line}, column {column}: not UTF-8 text "
            f"(byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        )
        return Checked(source, None, [message], raw)
    checked = check_text(text, source)
    checked.raw = raw
    return checked


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """The line and column (both from 1, columns in characters) of byte ``offset``."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, column


def check_text(text: str, source: str = "<study>") -> Checked:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        return Checked(source, None, [f"{source}: {where}YAML error: {what}"])
    except yaml.YAMLError as exc:
        return Checked(source, None, [f"{source}: YAML error: {exc}"])
    finally:
        loader.dispose()

    problems = _duplicate_keys(node, ())
    study = None
    if not isinstance(data, dict):
        problems.append(Problem((), "a study file is a mapping with study, partnerships, people"))
    else:
        pieces = Pieces()
        pieces.parse(data)
        problems += pieces.problems
        problems += cross_checks(pieces)
        if pieces.study is not None:
            problems += prompt_checks(pieces.study)
        if not problems:
            try:
                study = StudyFile.model_validate(data)
            except ValidationError as exc:
                problems += from_validation(exc, (), StudyFile)
    lines = _rendered(problems, source, node)
    notes = _rendered(warnings(study), source, node) if study is not None else []
    return Checked(source, study if not lines else None, lines, warnings=notes)


def _rendered(problems: list[Problem], source: str, node: yaml.Node | None) -> list[str]:
    located = [(_line_of(node, problem.loc) or 0, problem) for problem in problems]
    located.sort(key=lambda pair: pair[0])
    return [_render(problem, source, line) for line, problem in located]


def _render(problem: Problem, source: str, line: int) -> str:
    where = f" (line {line})" if line else ""
    if not problem.loc:
        return f"{source}: {problem.message}{where}"
    return f"{source}: {problem.path}: {problem.message}{where}"


def _line_of(node: yaml.Node | None, loc: Loc) -> int | None:
    """The line of the deepest node on ``loc`` that exists in the document."""
    if node is None:
        return None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def _duplicate_keys(node: yaml.Node | None, loc: Loc) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            if name in seen:
                problems.append(
                    Problem(
                        (*loc, name),
                        f"key given twice (again on line {key.start_mark.line + 1})",
                    )
                )
            seen.add(name)
            problems += _duplicate_keys(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, (*loc, index))
    return problems
