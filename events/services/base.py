"""What every service shares: the refusal types, the optimistic lock, slugs and history bookkeeping."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .. import history, page_cache
from ..models import Event, Story


class ApplicationError(Exception):
    """A domain rule refused the action; the message is meant for the editor."""


class StaleVersionError(ApplicationError):
    """Someone else saved the record since this edit started: `changes` says what they changed."""

    def __init__(self, *, current: Any, loaded_version: int) -> None:
        self.current = current
        self.loaded_version = loaded_version
        self.changes = history.changes_since(current, loaded_version)
        if current._meta.model_name == "event":
            message = _(
                "This event was changed by someone else since you opened it (you opened version "
                "%(loaded)s; it is now version %(now)s). Your input is kept: check their changes, then save again."
            )
        elif current._meta.model_name == "expectation":
            message = _(
                "This expectation was changed by someone else since you opened it (you opened version "
                "%(loaded)s; it is now version %(now)s). Your input is kept: check their changes, then save again."
            )
        else:
            message = _(
                "This record was changed by someone else since you opened it (you opened version "
                "%(loaded)s; it is now version %(now)s). Your input is kept: check their changes, then save again."
            )
        super().__init__(message % {"loaded": loaded_version, "now": current.version})


def lock_for_edit(model: type, pk: int, expected_version: int | None) -> Any:
    """The row, locked until the transaction ends, if it is still at `expected_version`.

    The one optimistic lock of every edit (desk, admin, services): each edit carries the version it
    was loaded with, and a save over a newer one raises StaleVersionError instead of overwriting.
    The row lock makes the compare-and-save atomic, so of two concurrent saves the second waits, then
    finds the new version and is refused. `expected_version=None` skips the check (a programmatic
    action that depends only on the record's state, such as publishing)."""
    current = model._default_manager.select_for_update().get(pk=pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleVersionError(current=current, loaded_version=expected_version)
    return current


def unique_slug(model: type, text: str, *, max_length: int = 200) -> str:
    """A slug for `text` not yet used by `model`: "macron-in-moscow", then "macron-in-moscow-2"."""
    base = slugify(text)[: max_length - 6].strip("-") or "item"
    taken = set(model.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def touch_story(story_id: int, *, panel: bool = True) -> None:
    """Keep `last_development_at` equal to the newest publication in the story, and have readers'
    pages of it rendered afresh (the models' signals do too, but bulk writes, such as an import's,
    send none: every publication comes through here). `panel=False` when the event saved through the
    ORM, whose signal has already told the story's "what's next" panel if it names the event."""
    newest = Event.objects.filter(story_id=story_id).published().aggregate(m=Max("published_at"))["m"]
    Story.objects.filter(pk=story_id).update(last_development_at=newest)
    page_cache.story_changed(story_id, panel=panel, events=True)


def set_history_user(instance: Any, by: AbstractBaseUser | None) -> None:
    if by is not None:
        instance._history_user = by
