"""Evidence files: photos, documents and voice notes kept under the data directory.

Files are content-addressed (``evidence/<yyyy>/<mm>/<sha256><ext>``) and written before the
database commit, so a stored :class:`Attachment` never points at a missing file.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import re
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import InboundAttachment
from storage.files import write_private
from storage.models import Attachment

log = logging.getLogger(__name__)

_SAFE_EXT = re.compile(r"^\.[a-z0-9]{1,8}$")


def _extension(attachment: InboundAttachment) -> str:
    ext = PurePosixPath(attachment.filename).suffix.lower()
    if not _SAFE_EXT.match(ext):
        ext = mimetypes.guess_extension(attachment.content_type.split(";")[0].strip()) or ""
    return ext if _SAFE_EXT.match(ext) else ".bin"


def _safe_name(filename: str) -> str:
    name = PurePosixPath(filename.replace("\\", "/")).name.strip() or "file"
    return name[:255]


def _write(target: Path, data: bytes, digest: str) -> None:
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == digest:
        return

    def verify(partial: Path) -> None:
        if hashlib.sha256(partial.read_bytes()).hexdigest() != digest:
            raise OSError(f"evidence file {target.name} did not verify after writing")

    write_private(target, data, check=verify)  # 0600 in 0700 folders


async def store_files(
    data_dir: Path, attachments: tuple[InboundAttachment, ...], now: datetime
) -> list[Attachment]:
    """Write each file (verified by sha256) and return unsaved :class:`Attachment` rows."""
    rows: list[Attachment] = []
    for attachment in attachments:
        digest = hashlib.sha256(attachment.data).hexdigest()
        relative = PurePosixPath(
            "evidence", f"{now:%Y}", f"{now:%m}", digest + _extension(attachment)
        )
        await asyncio.to_thread(_write, Path(data_dir) / relative, attachment.data, digest)
        rows.append(
            Attachment(
                kind=attachment.kind,
                filename=_safe_name(attachment.filename),
                content_type=attachment.content_type[:120] or "application/octet-stream",
                size=len(attachment.data),
                sha256=digest,
                path=str(relative),
                created_at=now,
            )
        )
        log.info("stored an evidence file of %d bytes", len(attachment.data))
    return rows


async def unused_paths(session: AsyncSession, removed: list[Attachment]) -> list[str]:
    """Paths of ``removed`` (already deleted and flushed) that no other attachment uses."""
    paths: list[str] = []
    for attachment in removed:
        still_used = await session.scalar(
            select(func.count()).select_from(Attachment).where(Attachment.path == attachment.path)
        )
        if not still_used and attachment.path not in paths:
            paths.append(attachment.path)
    return paths


async def unlink_files(data_dir: Path, paths: list[str]) -> None:
    """Delete evidence files (after the commit that removed their rows)."""
    for relative in paths:
        await asyncio.to_thread((Path(data_dir) / relative).unlink, True)
