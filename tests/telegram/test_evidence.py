"""Photos, documents and voice notes become evidence attachments, within the size limit."""

from __future__ import annotations

import pytest

from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram.conftest import ANA, Recorder, eventually, running

PHOTO = b"\xff\xd8\xff\xe0 a photo of the new rota"
LIMIT = 1024


@pytest.mark.parametrize(
    ("field", "kind", "filename", "content_type"),
    [
        ("photo", "photo", "photo-u1.jpg", "image/jpeg"),
        ("document", "file", "rota.pdf", "application/pdf"),
        ("voice", "voice", "voice-u1.ogg", "audio/ogg"),
    ],
)
async def test_a_photo_document_or_voice_note_arrives_as_an_attachment(
    fake: FakeTelegramAPI, field: str, kind: str, filename: str, content_type: str
) -> None:
    item = fake.add_file(PHOTO)
    if field == "photo":
        thumbnail = fake.add_file(b"tiny")
        body = {
            "photo": [{**thumbnail, "width": 9, "height": 9}, {**item, "width": 90, "height": 90}]
        }
    elif field == "document":
        body = {"document": {**item, "file_name": "rota.pdf", "mime_type": "application/pdf"}}
    else:
        body = {"voice": {**item, "duration": 4, "mime_type": "audio/ogg"}}
    core = Recorder()
    async with running(fake, core, max_upload_bytes=LIMIT):
        fake.add_update(fake.message(ANA, caption="The new rota", **body))
        await eventually(lambda: core.messages)
    [message] = core.messages
    [attachment] = message.attachments
    assert (attachment.kind, attachment.filename, attachment.content_type) == (
        kind,
        filename,
        content_type,
    )
    assert attachment.data == PHOTO
    assert message.text == "The new rota"
    assert not message.too_large


async def test_a_file_over_the_limit_is_never_downloaded(fake: FakeTelegramAPI) -> None:
    big = fake.add_file(b"x" * (LIMIT + 1))
    core = Recorder()
    async with running(fake, core, max_upload_bytes=LIMIT):
        fake.add_update(fake.message(ANA, document={**big, "file_name": "minutes.docx"}))
        await eventually(lambda: core.messages)
    [message] = core.messages
    assert message.too_large and message.attachments == ()
    assert fake.calls_to("getFile") == [] and fake.calls_to("download") == []


async def test_a_file_telegram_reports_too_large_only_on_get_file_is_not_downloaded(
    fake: FakeTelegramAPI,
) -> None:
    item = fake.add_file(b"x" * 10, file_size=LIMIT * 5)
    core = Recorder()
    async with running(fake, core, max_upload_bytes=LIMIT):
        fake.add_update(
            fake.message(
                ANA, voice={"file_id": item["file_id"], "file_unique_id": "v", "duration": 9}
            )
        )
        await eventually(lambda: core.messages)
    assert core.messages[0].too_large
    assert len(fake.calls_to("getFile")) == 1 and fake.calls_to("download") == []


async def test_a_file_that_cannot_be_fetched_is_a_transient_failure_and_fetched_again(
    fake: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    item = fake.add_file(PHOTO)
    fake.fail("getFile", 400, description="Bad Request: temporarily unavailable")
    core = Recorder()
    async with running(fake, core, max_upload_bytes=LIMIT):
        fake.add_update(fake.message(ANA, document={**item, "file_name": "rota.pdf"}))
        await eventually(lambda: core.messages)
    [message] = core.messages  # the update was tried again, and reached the core once
    assert message.attachments[0].data == PHOTO
    assert len(fake.calls_to("getFile")) == 2
    assert any("DownloadFailed" in record.getMessage() for record in caplog.records)
