"""Files carbot writes are readable only by the user it runs as: 0600 files in 0700 folders.

Evidence, outbox emails, the SQLite database and the secret key hold what participants said
or what protects it, so nothing is left to the process umask.
"""

from __future__ import annotations

import os
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


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a ``.part`` file, then a rename), mode 0600."""
    path = Path(path)
    private_dir(path.parent)
    partial = path.with_name(path.name + ".part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
        with os.fdopen(descriptor, "wb") as handle:
            descriptor = -1
            handle.write(data)
    finally:
        if descriptor >= 0:
            os.close(descriptor)
    os.replace(partial, path)


def touch_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (e.g. a SQLite database, so
    that SQLite's own -wal and -shm files take the same mode)."""
    path = Path(path)
    private_dir(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(descriptor)
