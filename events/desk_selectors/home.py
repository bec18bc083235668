"""Reads for the desk's front page and its "see more" lists: drafts, stories gone quiet, and the
latest changes by anyone. Each takes a limit, so the front page costs the same with 10 items or
100,000 (the expectations' lists are in expectations.py)."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from ..models import Event, Expectation, Story


def drafts(*, limit: int) -> list[Event]:
    """Unpublished events, the most recently touched first."""
    return list(Event.objects.drafts().select_related("story").order_by("-updated_at", "-id")[:limit])


def quiet_since(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=settings.QUIET_STORY_DAYS)


def quiet_stories(*, limit: int, now: datetime.datetime | None = None) -> QuerySet:
    """Developing stories with no development for QUIET_STORY_DAYS days, the longest quiet first.
    A story with no development at all counts from its creation."""
    since = quiet_since(now)
    return (
        Story.objects.developing()
        .filter(Q(last_development_at__lt=since) | Q(last_development_at__isnull=True, created_at__lt=since))
        .order_by(F("last_development_at").asc(nulls_first=True), "id")[:limit]
    )


@dataclass(frozen=True)
class Change:
    """One entry of an event's or an expectation's history, as the desk lists it."""

    when: datetime.datetime
    who: Any
    kind: str
    title: str
    reason: str
    url_name: str
    url_arg: Any
    history_type: str


def latest_changes(*, limit: int, before: datetime.datetime | None = None) -> list[Change]:
    """The newest history entries of events and expectations together: two bounded queries."""
    rows: list[Change] = []
    for model, kind, url_name, arg in (
        (Event, "event", "desk:event_edit", "slug"),
        (Expectation, "expectation", "desk:expectation_detail", "id"),
    ):
        history = model.history.select_related("history_user").order_by("-history_date", "-history_id")
        if before is not None:
            history = history.filter(history_date__lt=before)
        for record in history.only(
            "history_date", "history_user", "history_type", "history_change_reason", "title", arg
        )[:limit]:
            rows.append(
                Change(
                    when=record.history_date,
                    who=record.history_user,
                    kind=kind,
                    title=record.title,
                    reason=record.history_change_reason or "",
                    url_name=url_name,
                    url_arg=getattr(record, arg),
                    history_type=record.history_type,
                )
            )
    rows.sort(key=lambda change: change.when, reverse=True)
    return rows[:limit]
