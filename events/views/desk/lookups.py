"""As-you-type suggestions of actors for the desk's forms, and the live preview of a Markdown summary.
(The events that may fulfil an expectation are found on its own page: views/desk/expectations.py.)"""

import zoneinfo
from functools import cache

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.utils.html import format_html_join
from django.views.decorators.http import require_GET, require_POST

from ...models import Actor
from ...permissions import editor_required
from ...text import render_markdown
from ..public import HtmxHttpRequest

SUGGESTIONS = 20
# Without JavaScript, the <datalist> of a page holds this many actors, by name.
FIRST_ACTORS = 200


def actor_choices() -> list[tuple[str, str]]:
    """The first actors by name, as (name, description) for a page's <datalist>. One query."""
    return list(Actor.objects.order_by("name").values_list("name", "description")[:FIRST_ACTORS])


@cache
def time_zone_choices() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _typed(request: HtmxHttpRequest) -> str:
    """What was typed: an input sends its own name (participants-0-actor, q ...), so take any value."""
    typed = next((value.strip() for value in request.GET.values() if value.strip()), "")
    return typed.replace("\x00", "")[:100]  # PostgreSQL refuses a NUL byte in a query


@require_GET
@editor_required
def actor_suggestions(request: HtmxHttpRequest) -> HttpResponse:
    """<option>s of actors whose name or alias contains what is typed, for the form's <datalist>."""
    typed = _typed(request)
    actors = Actor.objects.order_by("name")
    if typed:
        actors = actors.annotate(alias_text=Cast("aliases", TextField())).filter(
            Q(name__icontains=typed) | Q(alias_text__icontains=typed)
        )
    rows = actors.values_list("name", "description")[:SUGGESTIONS]
    return HttpResponse(format_html_join("", '<option value="{}">{}</option>', rows))


@require_POST
@editor_required
def markdown_preview(request: HtmxHttpRequest) -> HttpResponse:
    """The summary as readers will see it: rendered and sanitised exactly as when it is saved."""
    return HttpResponse(render_markdown(request.POST.get("summary", "")[:20_000]))
