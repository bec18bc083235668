"""The desk's history of an event or an expectation: its versions, a diff of any two, restoring an
earlier one, and an event's public corrections. One template serves both kinds of record."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from ... import history, services
from ...forms import stale_message
from ...models import Event, Expectation
from ...permissions import editor_required

HISTORY_PAGE_SIZE = 50


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class CorrectionForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Correction"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Plain text, shown to readers on the event's page with today's date."),
        error_messages={"required": gettext_lazy("Write the correction readers will see.")},
    )


@dataclass(frozen=True)
class Comparison:
    old: history.Version
    new: history.Version
    changes: list[history.FieldChange]


# --- Where each kind of record lives on the site ---------------------------------------------------


def _links(record: Event | Expectation) -> dict[str, str]:
    if isinstance(record, Event):
        return {
            "history": reverse("desk:event_history", args=[record.slug]),
            "edit": reverse("desk:event_edit", args=[record.slug]),
            "public": record.get_absolute_url() if record.is_published else "",
            "corrections": reverse("desk:event_correction", args=[record.slug]),
            "story": record.story.get_absolute_url(),
        }
    return {
        "history": reverse("desk:expectation_history", args=[record.pk]),
        "edit": reverse("desk:expectation_detail", args=[record.pk]),
        "public": "",
        "corrections": "",
        "story": record.story.get_absolute_url(),
    }


def _restore_url(record: Event | Expectation, history_id: int) -> str:
    if isinstance(record, Event):
        return reverse("desk:event_restore", args=[record.slug, history_id])
    return reverse("desk:expectation_restore", args=[record.pk, history_id])


def _event(slug: str) -> Event:
    return get_object_or_404(Event.objects.select_related("story"), slug=slug)


def _expectation(pk: int) -> Expectation:
    return get_object_or_404(Expectation.objects.select_related("story"), pk=pk)


# --- The history page ------------------------------------------------------------------------------


def _comparison(request: HttpRequest, record: Event | Expectation) -> tuple[Comparison | None, str]:
    """The diff asked for by `?from=<history id>&to=<history id>`, or why it cannot be shown."""
    asked = request.GET.get("from"), request.GET.get("to")
    if asked == (None, None):
        return None, ""
    try:
        from_id, to_id = (int(value) for value in asked)
    except (TypeError, ValueError):
        return None, _("Choose two versions to compare, “From version” and “To version”.")
    found = history.versions_of(record, [from_id, to_id])
    for history_id in (from_id, to_id):
        if history_id not in found:
            if isinstance(record, Event):
                return None, _("There is no version %(id)s in the history of this event.") % {"id": history_id}
            return None, _("There is no version %(id)s in the history of this expectation.") % {"id": history_id}
    old, new = (history.Version(found[i], [], is_first=False, is_current=False) for i in (from_id, to_id))
    return Comparison(old=old, new=new, changes=history.diff(old.record, new.record)), ""


def _history_response(request: HtmxHttpRequest, record: Event | Expectation, *, status: int = 200) -> HttpResponse:
    page = history.history_page(record, number=request.GET.get("page"), size=HISTORY_PAGE_SIZE)
    comparison, compare_error = _comparison(request, record)
    versions = page.versions
    # The selects offer this page's versions, and the compared ones wherever they are; without a
    # comparison asked for, they propose the newest change.
    options = list(versions)
    if comparison:
        on_page = {v.history_id for v in versions}
        options += [v for v in (comparison.old, comparison.new) if v.history_id not in on_page]
        compare_from, compare_to = comparison.old.history_id, comparison.new.history_id
    else:
        compare_from = versions[1].history_id if len(versions) > 1 else None
        compare_to = versions[0].history_id if versions else None
    context: dict[str, Any] = {
        "record": record,
        "kind": record._meta.model_name,
        "links": _links(record),
        "page": page.page,
        "versions": [(v, _restore_url(record, v.history_id)) for v in versions],
        "options": options,
        "compare_from": compare_from,
        "compare_to": compare_to,
        "comparison": comparison,
        "compare_error": compare_error,
        "desk_section": "events" if isinstance(record, Event) else "expectations",
    }
    if compare_error:
        status = 400
    fragment = request.htmx and not request.htmx.history_restore_request
    template = "desk/history.html" + ("#history" if fragment else "")
    return render(request, template, context, status=status)


@require_GET
@editor_required
@vary_on_headers("HX-Request")
def event_history(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    return _history_response(request, _event(slug))


@require_GET
@editor_required
@vary_on_headers("HX-Request")
def expectation_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _history_response(request, _expectation(pk))


# --- Restoring -------------------------------------------------------------------------------------


def _restore(request: HtmxHttpRequest, record: Event | Expectation, history_id: int) -> HttpResponse:
    try:
        loaded = int(request.POST.get("loaded_version", ""))
    except ValueError:
        messages.error(request, _("Nothing was restored: reload the history, then restore again."))
        return _history_response(request, record, status=400)
    try:
        restored = services.restore_version(
            record=record, history_id=history_id, by=request.user, expected_version=loaded
        )
    except services.StaleVersionError as error:
        messages.error(request, _("Nothing was restored. %(reason)s") % {"reason": stale_message(error)})
        return _history_response(request, record, status=409)
    except (services.ApplicationError, ValidationError) as error:
        reason = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, _("Nothing was restored: %(reason)s") % {"reason": reason})
        return _history_response(request, record, status=400)
    messages.success(
        request,
        _("Restored an earlier version of “%(record)s”; it is now version %(version)s.")
        % {"record": restored, "version": restored.version},
    )
    return redirect(_links(restored)["history"])


@require_POST
@editor_required
def event_restore(request: HtmxHttpRequest, slug: str, history_id: int) -> HttpResponse:
    return _restore(request, _event(slug), history_id)


@require_POST
@editor_required
def expectation_restore(request: HtmxHttpRequest, pk: int, history_id: int) -> HttpResponse:
    return _restore(request, _expectation(pk), history_id)


# --- Corrections -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@editor_required
def event_correction(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    event = _event(slug)
    form = CorrectionForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.add_correction(event=event, text=form.cleaned_data["text"], by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if event.is_published:
                text = _("Correction added: it is shown on the event's public page.")
            else:
                text = _("Correction added: readers will see it once the event is published.")
            messages.success(request, text)
            return redirect("desk:event_history", slug=event.slug)
    corrections = event.corrections.select_related("created_by").order_by("-created_at", "-id")
    context = {
        "event": event,
        "form": form,
        "corrections": corrections,
        "links": _links(event),
        "desk_section": "events",
    }
    return render(request, "desk/correction_form.html", context, status=400 if form.is_bound else 200)
