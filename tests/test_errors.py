"""carbot's exceptions are defined in one module, which depends on nothing of carbot's."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("adapters", "bot", "digests", "prompts", "storage")
ERRORS = ROOT / "adapters" / "errors.py"


def _is_exception(node: ast.ClassDef, known: set[str]) -> bool:
    for base in node.bases:
        name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
        if name in known or name.endswith(("Error", "Exception")) or name == "LookupError":
            return True
    return False


def test_the_exception_module_imports_nothing_of_carbots() -> None:
    tree = ast.parse(ERRORS.read_text())
    imported = [
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    ] + [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    assert imported == ["__future__"]


def test_every_public_exception_class_is_defined_in_the_one_module() -> None:
    known = {"Exception", "ValueError", "RuntimeError", "LookupError"}
    known |= {
        n.name for n in ast.walk(ast.parse(ERRORS.read_text())) if isinstance(n, ast.ClassDef)
    }
    elsewhere = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ERRORS and "migrations" not in path.parts
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        and not node.name.startswith("_")
        and _is_exception(node, known)
    ]
    assert elsewhere == []


def test_the_check_finds_an_exception_class_outside_the_module() -> None:
    tree = ast.parse("class Oops(ValueError):\n    pass\nclass Fine:\n    pass\n")
    found = [
        n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and _is_exception(n, set())
    ]
    assert found == ["Oops"]
