"""Restoring earlier versions from history, and corrections to published events."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from ..models import Correction, Event, Expectation
from .base import ApplicationError, lock_for_edit, set_history_user, touch_story

# The relations each kind of record keeps in its history: (field, column of the related record).
HISTORICAL_M2M = {Event: ("topics", "topic"), Expectation: ("expected_actors", "actor")}


@transaction.atomic
def restore_version(
    *,
    record: Event | Expectation,
    history_id: int,
    by: AbstractBaseUser | None = None,
    expected_version: int | None = None,
) -> Event | Expectation:
    """Bring a record back to an earlier version from its history; the restore is itself recorded,
    as one new version. With `expected_version` (the version the editor was looking at), a restore over
    a version changed meanwhile is refused with StaleVersionError. A restore never moves the record's
    address: its current slug is kept, so links to it keep working."""
    model = type(record)
    current = lock_for_edit(model, record.pk, expected_version)
    try:
        old = current.history.get(history_id=history_id)
    except model.history.model.DoesNotExist:
        raise ApplicationError(
            _("Version %(id)s is not in the history of “%(record)s”.") % {"id": history_id, "record": current}
        ) from None
    restored = old.instance
    # The old version is this row as it was, not a new one: uniqueness is checked against the others.
    restored._state.adding = False
    restored.slug = current.slug
    restored.version = current.version + 1
    restored._change_reason = _("Restored the version of %(when)s") % {
        "when": dateformat.format(timezone.localtime(old.history_date), "d M Y H:i")
    }
    set_history_user(restored, by)
    restored.full_clean()
    if model in HISTORICAL_M2M:
        # Set the relations first, unrecorded, so that the save below records the whole restore
        # (fields and relations) as one history entry instead of one per relation change.
        field, column = HISTORICAL_M2M[model]
        related = model._meta.get_field(field).related_model
        # A related record deleted since that version cannot come back.
        ids = related._default_manager.filter(pk__in=_historical_m2m_ids(old, field, column)).values_list("pk")
        current.skip_history_when_saving = True
        getattr(current, field).set([pk for (pk,) in ids])
        del current.skip_history_when_saving
    restored.save()
    if isinstance(restored, Event):
        # Restoring a draft version unpublishes the event: the story's last development moves too.
        for story_id in {current.story_id, restored.story_id}:
            touch_story(story_id)
    return restored


def _historical_m2m_ids(historical: Any, field: str, column: str) -> Iterable[int]:
    return [getattr(row, f"{column}_id") for row in getattr(historical, field).all()]


@transaction.atomic
def add_correction(*, event: Event, text: str, by: AbstractBaseUser | None = None) -> Correction:
    """Add a public correction to an event, as newsrooms do: dated, signed, plain text.

    It changes nothing else: the event keeps its version and its place in the timeline."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the correction readers will see.")}, code="required")
    correction = Correction(event=event, text=text, created_by=by, created_at=timezone.now())
    correction.full_clean()
    correction.save()
    return correction
