"""Log a development (/desk/events/new/) and edit an event (/desk/events/<slug>/).

One form posts whole pages without JavaScript. With htmx the same form is posted in place (the page
partial is swapped, and a new event's address pushed), a field is checked when it changes
(`_validate=<field>` answers just its messages), and "Add a participant" etc. fetch one more row.
The form is multipart: a media row's file is checked and stored when it is posted, and "Move up" /
"Move down" post the form to show it again with two media rows swapped.
A refused form answers 422 with everything typed kept; a save over a newer version answers 409 with
what the other editor changed.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import slug_re
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from ... import services
from ...forms import stale_message
from ...forms.events import (
    FORMSETS,
    DevelopmentForm,
    initial_for,
    rows_initial,
    with_one_more_row,
    with_row_moved,
)
from ...models import Event, Position, Story
from ...permissions import editor_required
from ...text import render_markdown
from ..public import HtmxHttpRequest, _wants_fragment
from .lookups import actor_choices, time_zone_choices

TEMPLATE = "desk/events/form.html"


def _render(
    request: HtmxHttpRequest,
    form: DevelopmentForm,
    event: Event | None,
    *,
    status: int = 200,
    stale: services.StaleVersionError | None = None,
) -> HttpResponse:
    context = {
        "form": form,
        "event": event,
        "stale": stale,
        "stale_message": stale_message(stale) if stale else "",
        "desk_section": "events" if event else "log",
        "actor_choices": actor_choices(),
        "time_zones": time_zone_choices(),
        "raised": list(event.expectations_raised.order_by("due_on", "id")) if event else [],
        "summary_preview": render_markdown(form.event["summary"].value() or ""),
        "messages_in_page": True,
    }
    template = TEMPLATE + "#page" if _wants_fragment(request) else TEMPLATE
    return render(request, template, context, status=status)


def _submit(request: HtmxHttpRequest, event: Event | None) -> HttpResponse:
    data, files = request.POST, request.FILES
    if field := data.get("_validate"):
        return _field_messages(data, field)
    media = event.media.all() if event else ()
    if data.get("add") in FORMSETS or data.get("move"):
        if data.get("move"):
            data, files = with_row_moved(data, files, data["move"])
        else:
            data = with_one_more_row(data, data["add"])
        form = DevelopmentForm(data, files, media=media)
        form.hide_errors()
        return _render(request, form, event)
    form = DevelopmentForm(data, files, media=media)
    if not form.is_valid():
        return _render(request, form, event, status=422)
    if event is not None and form.event.cleaned_data.get("loaded_version") is None:
        form.event.add_error(None, _("This form lost track of the version you opened: reload the page."))
        return _render(request, form, event, status=422)
    publish = "publish" in data
    try:
        if event is None:
            saved = services.log_development(development=form.development(), publish=publish, by=request.user)
        else:
            saved = services.revise_development(
                event=event,
                development=form.development(),
                expected_version=form.event.cleaned_data["loaded_version"],
                publish=publish,
                unpublish="save_draft" in data,
                by=request.user,
            )
    except services.StaleVersionError as error:
        return _render(request, form, event, status=409, stale=error)
    except (ValidationError, services.ApplicationError) as error:
        form.event.add_error(None, error if isinstance(error, ValidationError) else str(error))
        return _render(request, form, event, status=422)
    if saved.is_published:
        messages.success(request, _("Published “%(title)s”: readers see it on the timeline.") % {"title": saved.title})
    else:
        messages.success(
            request, _("Saved “%(title)s” as a draft: readers do not see it yet.") % {"title": saved.title}
        )
    url = reverse("desk:event_edit", args=[saved.slug])
    if not _wants_fragment(request):
        return redirect(url)
    saved = _event_for_edit(saved.slug)
    response = _render(request, _edit_form(saved), saved)
    response["HX-Push-Url"] = url
    return response


def _field_messages(data, field: str) -> HttpResponse:
    """Inline validation: the messages of one field of the event form, as its row shows them."""
    form = DevelopmentForm(data).event
    if field not in form.fields:
        return HttpResponseBadRequest(_("No such field."))
    form.is_valid()
    return HttpResponse(str(form[field].errors))


def _event_for_edit(slug: str) -> Event:
    queryset = Event.objects.select_related("story", "place").prefetch_related(
        "participations__actor",
        "sources",
        "topics",
        Prefetch("discussion_points__positions", queryset=Position.objects.select_related("actor").order_by("id")),
        "media",
    )
    return get_object_or_404(queryset, slug=slug)


def _edit_form(event: Event) -> DevelopmentForm:
    return DevelopmentForm(initial=initial_for(event), rows=rows_initial(event), media=event.media.all())


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@editor_required
def event_new(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _submit(request, None)
    slug = request.GET.get("story", "")
    # Only a slug is looked up: one with a NUL byte would be refused by PostgreSQL.
    story = Story.objects.filter(slug=slug).only("pk").first() if slug_re.match(slug) else None
    return _render(request, DevelopmentForm(initial={"story": story.pk if story else None}), None)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@editor_required
def event_edit(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    event = _event_for_edit(slug)
    if request.method == "POST":
        return _submit(request, event)
    return _render(request, _edit_form(event), event)


@require_GET
@editor_required
def event_row(request: HtmxHttpRequest, formset: str) -> HttpResponse:
    """One more empty row of a formset (htmx), and the formset's count moved on out of band."""
    if formset not in FORMSETS:
        raise Http404
    try:
        index = int(request.GET.get(f"{formset}-TOTAL_FORMS", ""))
    except ValueError:
        return HttpResponseBadRequest(
            _("Say how many rows the form has (%(name)s).") % {"name": f"{formset}-TOTAL_FORMS"}
        )
    formset_class, _label = FORMSETS[formset]
    if not 0 <= index < formset_class.max_num:
        return HttpResponseBadRequest(_("A form holds at most %(n)s rows of each kind.") % {"n": formset_class.max_num})
    rows = DevelopmentForm().formsets[formset]
    row = rows._construct_form(index, **rows.get_form_kwargs(index))
    return render(
        request,
        TEMPLATE + "#new-row",
        {"row": row, "prefix": formset, "total": index + 1, "number": index + 1},
    )
