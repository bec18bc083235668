"""The desk's front page, and the "see more" lists it links to."""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from ...desk_selectors import expectations as expectation_reads
from ...desk_selectors import home as reads
from ...models import Event
from ...permissions import editor_required
from ..public import HtmxHttpRequest

FRONT_PAGE_LIMIT = 10
LIST_PAGE_SIZE = 50
DUE_SOON_DAYS = 7


@require_GET
@editor_required
def desk_home(request: HtmxHttpRequest) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "desk_section": "home",
        "today": today,
        "overdue": expectation_reads.overdue_expectations(today, limit=FRONT_PAGE_LIMIT),
        "due_soon": expectation_reads.due_soon(today, days=DUE_SOON_DAYS, limit=FRONT_PAGE_LIMIT),
        "unreviewed": expectation_reads.unreviewed(limit=FRONT_PAGE_LIMIT),
        "drafts": reads.drafts(limit=FRONT_PAGE_LIMIT),
        "quiet": list(reads.quiet_stories(limit=FRONT_PAGE_LIMIT)),
        "changes": reads.latest_changes(limit=FRONT_PAGE_LIMIT),
        "limit": FRONT_PAGE_LIMIT,
        "due_soon_days": DUE_SOON_DAYS,
    }
    return render(request, "desk/home.html", context)


@require_GET
@editor_required
def latest_changes(request: HtmxHttpRequest) -> HttpResponse:
    """All changes, newest first, a page at a time (`before=` the oldest change of the last page)."""
    try:
        before = parse_datetime(request.GET.get("before", "") or "")
    except ValueError:  # well formed but no time, such as 2022-02-30T10:00: start from the newest
        before = None
    changes = reads.latest_changes(limit=LIST_PAGE_SIZE + 1, before=before)
    return render(
        request,
        "desk/changes.html",
        {
            "desk_section": "changes",
            "changes": changes[:LIST_PAGE_SIZE],
            "next_before": changes[LIST_PAGE_SIZE - 1].when.isoformat() if len(changes) > LIST_PAGE_SIZE else "",
        },
    )


@require_GET
@editor_required
def quiet_stories(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request,
        "desk/quiet_stories.html",
        {"desk_section": "home", "stories": reads.quiet_stories(limit=200), "since": reads.quiet_since()},
    )


@require_GET
@editor_required
def event_list(request: HtmxHttpRequest) -> HttpResponse:
    """Events to work on: drafts (default) or all, the most recently changed first, 50 a page."""
    show = "all" if request.GET.get("show") == "all" else "drafts"
    events = Event.objects.select_related("story", "place").order_by("-updated_at", "-id")
    if show == "drafts":
        events = events.drafts()
    page = Paginator(events, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "desk/event_list.html", {"desk_section": "events", "page": page, "show": show})
