"""Readers' lists of expectations: every expectation of a story, actor, topic or place, by deadline.

The "what's next" panel of a page shows a few of each kind; this is where its link to the rest leads.
Keyset-paginated like a timeline (never OFFSET), optionally narrowed to one status as readers see it
(overdue as soon as its dates have passed). A malformed status or cursor is a 400.
"""

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .. import selectors
from ..models import Story


def _render_list(request: HttpRequest, expectations, *, heading: str, back_url: str, show_story: bool) -> HttpResponse:
    status = request.GET.get("status", "")
    raw_after = request.GET.get("after", "")
    error = ""
    after = None
    if status and status not in selectors.EXPECTATION_STATUSES:
        error = _("There is no such status. Choose one of those listed.")
    elif raw_after:
        try:
            after = selectors.ExpectationCursor.parse(raw_after)
        except ValueError:
            error = _("This link to later expectations is damaged. Start again from the first page.")
    page = selectors.expectation_page(expectations, status="" if error else status, after=after)
    next_url = ""
    if page.next_cursor and not error:
        query = QueryDict(mutable=True)
        if status:
            query["status"] = status
        query["after"] = str(page.next_cursor)
        next_url = f"{request.path}?{query.urlencode()}"
    context = {
        "heading": heading,
        "back_url": back_url,
        "show_story": show_story,
        "page": page,
        "status": status,
        "statuses": selectors.EXPECTATION_STATUSES,
        "next_url": next_url,
        "error": error,
    }
    return render(request, "events/expectation_list.html", context, status=400 if error else 200)


@require_GET
def story_expectations(request: HttpRequest, slug: str) -> HttpResponse:
    story = get_object_or_404(Story, slug=slug)
    return _render_list(
        request,
        selectors.story_expectations(story),
        heading=story.title,
        back_url=story.get_absolute_url(),
        show_story=False,
    )


def _entity_expectations(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    entity_page = selectors.entity_page(kind, slug)
    return _render_list(
        request,
        entity_page.expectations,
        heading=entity_page.entity.name,
        back_url=entity_page.entity.get_absolute_url(),
        show_story=True,
    )


@require_GET
def actor_expectations(request: HttpRequest, slug: str) -> HttpResponse:
    return _entity_expectations(request, "actor", slug)


@require_GET
def topic_expectations(request: HttpRequest, slug: str) -> HttpResponse:
    return _entity_expectations(request, "topic", slug)


@require_GET
def place_expectations(request: HttpRequest, slug: str) -> HttpResponse:
    return _entity_expectations(request, "place", slug)
