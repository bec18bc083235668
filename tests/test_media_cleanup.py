"""Uploads no form saved are deleted once their token has expired; everything an item uses stays."""

import datetime
import io
import os

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from events import tasks
from events.media.uploads import store_upload
from events.services.media import MediaRow, write_media

from .factories import EventFactory


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(buffer, "JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue())


def _age(name: str, days: int) -> None:
    then = (timezone.now() - datetime.timedelta(days=days)).timestamp()
    os.utime(default_storage.path(name), (then, then))


def test_abandoned_uploads_are_deleted_and_used_ones_kept(db):
    event = EventFactory()
    used = store_upload(_photo(), "image")
    write_media(event, [MediaRow(kind="image", upload=used, credit="Story Tracker", alt_text="A navy square")])
    abandoned = store_upload(_photo(), "image")
    recent = store_upload(_photo(), "image")
    _age(used.name, 5)
    _age(abandoned.name, 5)

    assert tasks.delete_abandoned_uploads.apply().get() == 1

    assert default_storage.exists(used.name)
    assert not default_storage.exists(abandoned.name)
    # Its form may still be saved: the token is valid for a day.
    assert default_storage.exists(recent.name)
    # A second run finds nothing more to delete.
    assert tasks.delete_abandoned_uploads.apply().get() == 0
