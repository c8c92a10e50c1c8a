"""DESIGN.md's dependency rule for this package: ``digests`` may use ``storage`` and its own
libraries, never the bot or the channel adapters (the bot wires digests in, not the reverse) —
only carbot's one exception module, ``adapters.errors``, which itself imports nothing of ours."""

from __future__ import annotations

import ast
from pathlib import Path

DIGESTS = Path(__file__).resolve().parents[2] / "digests"
FORBIDDEN = ("bot", "adapters")
ALLOWED = ("adapters.errors",)


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_no_module_in_digests_imports_the_bot_or_the_adapters() -> None:
    files = sorted(DIGESTS.rglob("*.py"))
    assert len(files) > 10  # the package really was found
    offending = [
        f"{path.relative_to(DIGESTS.parent)}:{line}: import {module}"
        for path in files
        for line, module in _imported(ast.parse(path.read_text(), str(path)))
        if module.split(".")[0] in FORBIDDEN and module not in ALLOWED
    ]
    assert offending == []


def test_the_rule_is_checked_inside_functions_and_type_checking_blocks_too() -> None:
    source = (
        "if TYPE_CHECKING:\n    from bot.services import Services\n"
        "def f():\n    import adapters.base\n"
    )
    assert [module for _, module in _imported(ast.parse(source))] == [
        "bot.services",
        "adapters.base",
    ]
