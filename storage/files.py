"""Files carbot writes are readable only by the user it runs as: 0600 files in 0700 folders.

Evidence, outbox emails, the SQLite database and the secret key hold what participants said
or what protects it, so nothing is left to the process umask.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Make ``path`` (and any missing parents) as folders only the owner can open."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)
    return path


def write_private(path: Path, data: bytes, check: Callable[[Path], None] | None = None) -> None:
    """Write ``data`` to ``path`` atomically (a partial file, then a rename), mode 0600.
    ``check`` may read the written partial file and raise to stop the rename. Each writer has
    its own partial file, so two processes writing one path never trip over each other."""
    path = Path(path)
    partial = _write_partial(path, data)
    if check is not None:
        try:
            check(partial)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, path)


def create_private_once(path: Path, data: bytes) -> bytes:
    """Create ``path`` holding ``data`` (mode 0600) unless it exists; return what ``path`` holds.
    When several processes race, the first to finish wins and all of them read its bytes, and no
    reader ever sees a half-written file."""
    path = Path(path)
    if path.exists():
        return path.read_bytes()
    partial = _write_partial(path, data)
    try:
        os.link(partial, path)  # fails if another writer got there first
    except FileExistsError:
        pass
    finally:
        partial.unlink(missing_ok=True)
    return path.read_bytes()


def _write_partial(path: Path, data: bytes) -> Path:
    """``data`` in a new 0600 file beside ``path``, named for this writer alone."""
    private_dir(path.parent)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    partial = Path(name)
    try:
        os.fchmod(descriptor, FILE_MODE)
        with os.fdopen(descriptor, "wb") as handle:
            descriptor = -1
            handle.write(data)
    except BaseException:
        if descriptor >= 0:
            os.close(descriptor)
        partial.unlink(missing_ok=True)
        raise
    return partial


def touch_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist, or take away group and other
    access from one this user owns (a SQLite database: its -wal and -shm files follow)."""
    path = Path(path)
    private_dir(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        info = os.fstat(descriptor)
        if info.st_uid == os.geteuid() and info.st_mode & 0o077:
            os.fchmod(descriptor, FILE_MODE)  # a database from before carbot did this
    finally:
        os.close(descriptor)
