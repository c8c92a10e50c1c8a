"""Evidence photos are links by default; with ``digest_inline_photos`` small ones are embedded."""

from __future__ import annotations

from pathlib import Path

import lxml.html
from sqlalchemy import select

from bot.engine.digest_jobs import send_due_digests
from bot.services import Services
from storage.db import transaction
from storage.models import Attachment
from tests.conftest import make_settings
from tests.digests.factory import add_reflection, add_study, add_team
from tests.digests.helpers import WEEKLY_TIME, outbox_messages
from tests.support.schema import create_schema

PHOTO = b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10


async def _with_photos(tmp_path: Path, inline: bool) -> Services:
    services = Services.from_settings(make_settings(tmp_path, digest_inline_photos=inline))
    await create_schema(services.engine)
    evidence = Path(services.settings.data_dir) / "evidence"
    evidence.mkdir(parents=True)
    (evidence / "queue.jpg").write_bytes(PHOTO)
    (tmp_path / "secret.jpg").write_bytes(b"outside the data directory")
    async with transaction(services.sessions) as session:
        await add_study(session)
        team = await add_team(session, members=1)
        member = team.members[0]
        await add_reflection(
            session, team, member, "Queue at 9am", kind="evidence", photo="queue.jpg"
        )
        sneaky = await add_reflection(
            session, team, member, "Sneaky", kind="evidence", photo="x.jpg"
        )
        attachment = await session.scalar(
            select(Attachment).where(Attachment.reflection_id == sneaky.id)
        )
        assert attachment is not None
        attachment.path = "../secret.jpg"
    return services


async def test_photos_are_only_linked_by_default(tmp_path: Path) -> None:
    services = await _with_photos(tmp_path, inline=False)
    await send_due_digests(services, WEEKLY_TIME)
    await services.close()

    (message,) = outbox_messages(services.settings.outbox_dir)
    assert [
        p.get_content_type() for p in message.walk() if p.get_content_maintype() == "image"
    ] == []
    html = message.get_body(("html",))
    assert html is not None and "cid:" not in html.get_content()
    assert "Photo: queue.jpg" in html.get_content()


async def test_small_photos_are_embedded_with_alt_text_when_switched_on(tmp_path: Path) -> None:
    services = await _with_photos(tmp_path, inline=True)
    await send_due_digests(services, WEEKLY_TIME)
    await services.close()

    (message,) = outbox_messages(services.settings.outbox_dir)
    images = [p for p in message.walk() if p.get_content_maintype() == "image"]
    assert len(images) == 1  # the file outside the data directory is never read
    (image,) = images
    assert image.get_payload(decode=True) == PHOTO
    html_part = message.get_body(("related", "html"))
    assert html_part is not None
    document = lxml.html.document_fromstring(message.get_body(("html",)).get_content())
    (img,) = document.xpath("//img")
    assert img.get("src") == "cid:" + image["Content-ID"].strip("<>")
    assert img.get("alt") == "Photo: Queue at 9am"
    assert img.getparent().tag == "a" and "/review/reflections/" in img.getparent().get("href")
