"""The import rules that keep a channel in one place (README, "How it is built").

- ``adapters/<name>/`` imports nothing of ours but the shared modules of ``adapters/`` (such as
  ``adapters.base``) and its own folder;
- outside ``adapters/`` and ``bot/channels/`` nothing names a concrete channel: the scheduler,
  the runner, the CLI and the web app reach channels through ``bot.channels.CHANNELS``;
- ``digests`` and ``storage`` import neither the bot nor the adapters — only carbot's one
  exception module, ``adapters.errors``, which imports nothing of ours (``tests/test_errors.py``);
- no module of ours is over 400 lines (migrations excepted).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ("bot", "adapters", "prompts", "storage", "digests")
CHANNEL_PACKAGES = sorted(
    p.name for p in (ROOT / "adapters").iterdir() if (p / "__init__.py").exists()
)
# The demo seeds each demo person's personal web chat link: showing the web chat is its job.
MAY_NAME_A_CHANNEL = ("bot/demo/",)


def is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports(source: str, package: str) -> Iterator[tuple[int, str]]:
    """Every module of ``source`` (a module of ``package``) imports, at any depth — inside
    functions and TYPE_CHECKING blocks too; ``from a import b`` counts ``a.b`` when b is a
    module."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            yield node.lineno, base
            for alias in node.names:
                if is_module(f"{base}.{alias.name}"):
                    yield node.lineno, f"{base}.{alias.name}"


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    package = ".".join(path.parent.relative_to(ROOT).parts)
    return imports(path.read_text(), package)


def modules(*folders: str) -> list[Path]:
    found = sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))
    assert found, folders
    return found


def where(path: Path, line: int, module: str) -> str:
    return f"{path.relative_to(ROOT)}:{line}: {module}"


def names_a_channel(module: str) -> bool:
    parts = module.split(".")
    if parts[0] == "adapters":
        return len(parts) > 1 and parts[1] in CHANNEL_PACKAGES
    return parts[:2] == ["bot", "channels"] and len(parts) > 2


def test_there_are_channel_packages_to_check() -> None:
    assert {"slack", "telegram", "webchat"} <= set(CHANNEL_PACKAGES)


def test_an_adapter_imports_only_the_shared_adapter_modules_and_its_own_folder() -> None:
    offending = []
    for name in CHANNEL_PACKAGES:
        for path in modules(f"adapters/{name}"):
            for line, module in imports_of(path):
                parts = module.split(".")
                if parts[0] not in OURS:
                    continue  # the standard library or the platform's SDK
                shared = (
                    parts[0] == "adapters" and len(parts) > 1 and parts[1] not in CHANNEL_PACKAGES
                )
                own = parts[:2] == ["adapters", name]
                if not (shared or own):
                    offending.append(where(path, line, module))
    assert offending == []


def test_nothing_outside_the_channel_folders_names_a_concrete_channel() -> None:
    offending = [
        where(path, line, module)
        for path in modules("bot", "prompts", "storage", "digests")
        if not path.relative_to(ROOT).as_posix().startswith(("bot/channels/", *MAY_NAME_A_CHANNEL))
        for line, module in imports_of(path)
        if names_a_channel(module)
    ]
    assert offending == []


def test_digests_and_storage_import_neither_the_bot_nor_the_adapters() -> None:
    offending = [
        where(path, line, module)
        for path in modules("digests", "storage")
        for line, module in imports_of(path)
        if module.split(".")[0] in ("bot", "adapters") and module != "adapters.errors"
    ]
    assert offending == []


def test_the_rules_see_relative_imports_and_imports_inside_functions() -> None:
    source = "def f():\n    from ..channels import slack\n    import adapters.telegram.channel\n"
    found = [module for _, module in imports(source, "bot.engine")]
    assert found == ["bot.channels", "bot.channels.slack", "adapters.telegram.channel"]
    assert [names_a_channel(module) for module in found] == [False, True, True]
    assert not names_a_channel("adapters.base")


LINE_LIMIT = 400


def test_no_module_of_ours_is_over_400_lines() -> None:
    """Every module stays small enough to read as one thing (STYLE: no god modules); migrations
    are left out, each a fixed record of one schema change, never edited once released."""
    too_long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for path in modules(*OURS)
        if "migrations/versions" not in path.as_posix()
        and (lines := len(path.read_text().splitlines())) > LINE_LIMIT
    ]
    assert too_long == []
