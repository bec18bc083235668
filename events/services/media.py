"""An event's media as the editor arranged them: kept, changed, added, reordered or removed.

Called inside the services that save a development, so the media change with the event in one
transaction. The first image becomes the event's lead picture. A removed upload's files (the
original and its resized copies) are deleted once the transaction commits, never before: a rolled
back edit keeps everything it showed.
"""

import datetime
import logging
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..media.uploads import TOKEN_MAX_AGE, StoredUpload
from ..models import LINKED_KINDS, Event, MediaItem, MediaKind
from .base import ApplicationError

logger = logging.getLogger(__name__)

# What an editor sets on any media item, whatever its kind.
TEXT_FIELDS = ("url", "thumbnail_url", "title", "outlet", "caption", "credit", "alt_text", "taken_on")


@dataclass(frozen=True)
class MediaRow:
    """One media item as the form (or an import) has it: an existing item, an upload or a link."""

    kind: str
    item_id: int | None = None
    upload: StoredUpload | None = None
    url: str = ""
    thumbnail_url: str = ""
    title: str = ""
    outlet: str = ""
    caption: str = ""
    credit: str = ""
    alt_text: str = ""
    taken_on: datetime.date | None = None


def _new_item(event: Event, row: MediaRow) -> MediaItem:
    item = MediaItem(event=event, kind=row.kind)
    if row.kind in (MediaKind.IMAGE, MediaKind.DOCUMENT):
        if row.upload is None or row.upload.kind != row.kind:
            raise ApplicationError(_("A new photo or document needs its file."))
        if row.kind == MediaKind.IMAGE:
            item.image.name = row.upload.name
            item.width, item.height = row.upload.width, row.upload.height
        else:
            item.document.name = row.upload.name
        item.file_size = row.upload.size
    return item


def stored_names(item: MediaItem) -> list[str]:
    """Every file in the storage that belongs to an item: its upload and the resized copies."""
    names = [file.name for file in (item.image, item.document) if file]
    names += [spec.name for spec, _width, _height in item.thumbnails()]
    return names


def delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            # A file already gone is what we wanted; a store that fails is logged, not fatal.
            logger.warning("media file could not be deleted", extra={"file": name})


def make_thumbnails(item: MediaItem) -> None:
    for spec, _width, _height in item.thumbnails():
        spec.generate()


def write_media(event: Event, rows: list[MediaRow]) -> None:
    """Make the event's media exactly `rows`, in that order; the first image leads."""
    existing = {item.pk: item for item in MediaItem.objects.filter(event=event)}
    kept: list[MediaItem] = []
    for position, row in enumerate(rows):
        if row.item_id is not None:
            item = existing.pop(row.item_id, None)
            if item is None:
                raise ApplicationError(_("A media item of this event was removed meanwhile: reload the page."))
            if item.is_link and row.kind in LINKED_KINDS:
                # A link may be re-labelled (a page that is really a video); an upload keeps its kind.
                item.kind = row.kind
        else:
            item = _new_item(event, row)
        for name in TEXT_FIELDS:
            setattr(item, name, getattr(row, name))
        item.position = position
        item.full_clean()
        is_new = item.pk is None
        item.save()
        if is_new and item.is_image:
            make_thumbnails(item)
        kept.append(item)
    removed = [name for item in existing.values() for name in stored_names(item)]
    if existing:
        MediaItem.objects.filter(pk__in=existing).delete()
        transaction.on_commit(lambda: delete_files(removed))
    _set_lead_image(event, next((item for item in kept if item.is_image), None))


def _set_lead_image(event: Event, lead: MediaItem | None) -> None:
    # updated_at moves even when the lead stays: its caption or credit may have changed, and the
    # event's rendered card (events.cards) is keyed on it.
    event.lead_image = lead
    event.updated_at = timezone.now()
    Event.objects.filter(pk=event.pk).update(lead_image=lead, updated_at=event.updated_at)


@transaction.atomic
def refresh_lead_image(*, event: Event) -> None:
    """Make the event's first image (by position) its lead again, after its media were edited elsewhere
    (the admin's inline)."""
    _set_lead_image(event, event.media.filter(kind=MediaKind.IMAGE).order_by("position", "id").first())


def delete_abandoned_uploads(*, now: datetime.datetime | None = None) -> int:
    """Delete uploads that no media item took (a form never saved), once their token has expired.

    Looks at this month's and last month's folders only: older ones were swept by earlier runs.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=TOKEN_MAX_AGE * 2)
    last_month = now.replace(day=1) - datetime.timedelta(days=1)
    deleted = 0
    for root in ("images", "documents"):
        for month in {last_month.strftime("%Y/%m"), now.strftime("%Y/%m")}:
            folder = f"{root}/{month}"
            try:
                _dirs, files = default_storage.listdir(folder)
            except FileNotFoundError:
                continue
            names = [f"{folder}/{name}" for name in files]
            taken = set(MediaItem.objects.filter(image__in=names).values_list("image", flat=True))
            taken |= set(MediaItem.objects.filter(document__in=names).values_list("document", flat=True))
            for name in names:
                if name not in taken and default_storage.get_modified_time(name) < cutoff:
                    delete_files([name])
                    deleted += 1
    return deleted
