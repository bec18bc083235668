"""Expectations on the desk: the lists (/desk/expectations/), raising one (new/), its page with the
decisions (fulfil, extend, cancel or supersede, mark reviewed) and editing it.

Each decision is a form posting whole pages to its own URL, then back to the expectation's page
(post/redirect/get) with a message. A decision the rules refuse answers 400 and a decision about a
version someone else changed meanwhile 409: the page again, saying why, the editor's input kept.
The fulfil form's "Find the event" searches the story's events: without JavaScript a GET of this
page with `q`; with htmx the same GET answers just the list of choices.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import slug_re
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from ... import services
from ...desk_selectors import expectations as reads
from ...forms import CancelForm, ExpectationForm, ExtendForm, FulfilForm, ReviewForm, stale_message
from ...forms.expectations import DecisionForm
from ...models import Event, Expectation, Story
from ...permissions import editor_required
from ..public import HtmxHttpRequest, _wants_fragment

DETAIL = "desk/expectations/detail.html"
FORM = "desk/expectations/form.html"
LIST = "desk/expectations/list.html"

SHOW_LABELS = {
    "overdue": gettext_lazy("Overdue"),
    "due": gettext_lazy("Due soon"),
    "unreviewed": gettext_lazy("Unreviewed"),
    "open": gettext_lazy("Open"),
    "resolved": gettext_lazy("Resolved"),
}


# --- The lists -----------------------------------------------------------------------------------


@require_GET
@editor_required
def expectation_list(request: HtmxHttpRequest) -> HttpResponse:
    show = request.GET.get("show") or reads.DEFAULT_SHOW
    story_slug = request.GET.get("story", "")
    # Only a slug is looked up: one with a NUL byte would be refused by PostgreSQL.
    story = Story.objects.filter(slug=story_slug).first() if slug_re.match(story_slug) else None
    problems = []
    if show not in reads.SHOWS:
        problems.append(
            _("There is no list “%(show)s”: choose one of %(shows)s.") % {"show": show, "shows": ", ".join(reads.SHOWS)}
        )
    if story_slug and story is None:
        problems.append(_("No story has the address “%(slug)s”.") % {"slug": story_slug})
    context = {
        "desk_section": "expectations",
        "show": show if show in reads.SHOWS else reads.DEFAULT_SHOW,
        "story": story,
        "due_soon_days": reads.DUE_SOON_DAYS,
        "tabs": [(key, SHOW_LABELS[key]) for key in reads.SHOWS],
        "stories": Story.objects.order_by("title").only("title", "slug"),
        "problems": problems,
        "page": None,
    }
    if problems:
        return render(request, LIST, context, status=400)
    context["page"] = reads.expectation_page(
        show, today=timezone.localdate(), story=story, page=request.GET.get("page")
    )
    return render(request, LIST, context)


# --- One expectation and its decisions ------------------------------------------------------------


def _detail(
    request: HtmxHttpRequest,
    pk: int,
    *,
    status: int = 200,
    refusal: str = "",
    **bound: DecisionForm,
) -> HttpResponse:
    """The expectation's page as it is now, with the decision forms: `bound` ones (fulfil=, extend=,
    cancel=, review=) keep what the editor sent, the others are fresh on the current version."""
    try:
        expectation = reads.expectation_detail(pk)
    except Expectation.DoesNotExist:
        raise Http404 from None
    fulfil = bound.get("fulfil")
    chosen_id = fulfil.chosen_event_id() if fulfil else None
    chosen = reads.event_of_story(expectation, chosen_id) if chosen_id else None
    q = request.GET.get("q", "")
    page = reads.expectation_page_data(expectation, today=timezone.localdate(), q=q, chosen=chosen)
    context = {
        "desk_section": "expectations",
        "expectation": expectation,
        "page": page,
        "candidates": page.candidates,
        "chosen_event_id": chosen_id,
        "q": q,
        "refusal": refusal,
        "fulfil_form": fulfil or FulfilForm(expectation=expectation),
        "extend_form": bound.get("extend") or ExtendForm(expectation=expectation),
        "cancel_form": bound.get("cancel") or CancelForm(expectation=expectation),
        "review_form": bound.get("review") or ReviewForm(expectation=expectation),
    }
    return render(request, DETAIL, context, status=status)


@require_GET
@editor_required
@vary_on_headers("HX-Request")
def expectation_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    if _wants_fragment(request):
        # "Find the event" as the editor types: just the choices.
        expectation = get_object_or_404(Expectation.objects.select_related("raised_by"), pk=pk)
        candidates = reads.fulfilment_candidates(expectation, q=request.GET.get("q", ""))
        return render(
            request,
            DETAIL + "#event-choices",
            {"expectation": expectation, "candidates": candidates, "q": request.GET.get("q", "")},
        )
    return _detail(request, pk)


def _decide(
    request: HtmxHttpRequest, pk: int, slot: str, form: DecisionForm, decide: Callable[[], str]
) -> HttpResponse:
    """Run a validated decision; `decide` calls the service and returns the message of success."""
    try:
        done = decide()
    except services.StaleVersionError as error:
        form.take_version(error.current.version)
        return _detail(request, pk, status=409, refusal=stale_message(error), **{slot: form})
    except services.ApplicationError as error:
        return _detail(request, pk, status=400, refusal=str(error), **{slot: form})
    except ValidationError as error:
        return _detail(request, pk, status=400, refusal=" ".join(error.messages), **{slot: form})
    messages.success(request, done)
    return redirect("desk:expectation_detail", pk=pk)


def _decision_form(request: HtmxHttpRequest, pk: int, form_class: type[DecisionForm]) -> DecisionForm:
    expectation = get_object_or_404(Expectation, pk=pk)
    return form_class(request.POST, expectation=expectation)


@require_POST
@editor_required
def expectation_fulfil(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    form = _decision_form(request, pk, FulfilForm)
    if not form.is_valid():
        return _detail(request, pk, status=400, fulfil=form)
    event: Event = form.cleaned_data["event"]

    def decide() -> str:
        services.fulfil_expectation(
            expectation=form.expectation,
            event=event,
            by=request.user,
            expected_version=form.cleaned_data["loaded_version"],
        )
        return _("Marked fulfilled by “%(event)s”.") % {"event": event.title}

    return _decide(request, pk, "fulfil", form, decide)


@require_POST
@editor_required
def expectation_extend(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    form = _decision_form(request, pk, ExtendForm)
    if not form.is_valid():
        return _detail(request, pk, status=400, extend=form)

    def decide() -> str:
        extended = services.extend_expectation(
            expectation=form.expectation,
            due_on=form.cleaned_data["due_on"],
            due_precision=form.cleaned_data["due_precision"],
            latest_on=form.cleaned_data["latest_on"],
            reason=form.cleaned_data["reason"],
            by=request.user,
            expected_version=form.cleaned_data["loaded_version"],
        )
        return _("Extended: now due %(due)s.") % {"due": extended.due_display}

    return _decide(request, pk, "extend", form, decide)


@require_POST
@editor_required
def expectation_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Cancel, or with the "Mark superseded" button, supersede."""
    form = _decision_form(request, pk, CancelForm)
    if not form.is_valid():
        return _detail(request, pk, status=400, cancel=form)

    def decide() -> str:
        services.cancel_expectation(
            expectation=form.expectation,
            superseded=form.superseded,
            reason=form.cleaned_data["reason"],
            by=request.user,
            expected_version=form.cleaned_data["loaded_version"],
        )
        return _("Marked superseded.") if form.superseded else _("Cancelled.")

    return _decide(request, pk, "cancel", form, decide)


@require_POST
@editor_required
def expectation_review(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    form = _decision_form(request, pk, ReviewForm)
    if not form.is_valid():
        return _detail(request, pk, status=400, review=form)

    def decide() -> str:
        marked = services.review_expectation(
            expectation=form.expectation, expected_version=form.cleaned_data["loaded_version"], by=request.user
        )
        return _("Marked reviewed.") if marked else _("It was already reviewed.")

    return _decide(request, pk, "review", form, decide)


# --- Raising and editing ---------------------------------------------------------------------------


def _form_page(
    request: HtmxHttpRequest,
    form: ExpectationForm,
    expectation: Expectation | None,
    *,
    status: int = 200,
    refusal: str = "",
) -> HttpResponse:
    context = {
        "desk_section": "expectations",
        "form": form,
        "expectation": expectation,
        "refusal": refusal,
        "form_action": request.get_full_path(),
    }
    return render(request, FORM, context, status=status)


@require_http_methods(["GET", "POST"])
@editor_required
def expectation_new(request: HtmxHttpRequest) -> HttpResponse:
    """`?event=<slug>`: raised by that event (its story and raised_by fixed); `?story=<slug>`: in
    that story."""
    event = story = None
    event_slug, story_slug = request.GET.get("event", ""), request.GET.get("story", "")
    for slug in (event_slug, story_slug):
        if slug and not slug_re.match(slug):  # no such page, and PostgreSQL refuses a NUL byte
            raise Http404
    if event_slug:
        event = get_object_or_404(Event.objects.select_related("story"), slug=event_slug)
    elif story_slug:
        story = get_object_or_404(Story, slug=story_slug)
    if request.method == "GET":
        return _form_page(request, ExpectationForm(event=event, story=story), None)
    form = ExpectationForm(request.POST, event=event, story=story)
    if not form.is_valid():
        return _form_page(request, form, None, status=400)
    try:
        expectation = services.raise_expectation(**form.changes(), by=request.user)
    except (services.ApplicationError, ValidationError) as error:
        refusal = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        return _form_page(request, form, None, status=400, refusal=refusal)
    messages.success(request, _("Raised “%(title)s”.") % {"title": expectation.title})
    return redirect("desk:expectation_detail", pk=expectation.pk)


@require_http_methods(["GET", "POST"])
@editor_required
def expectation_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Its fields, not its status (decisions have their own buttons). A save over a newer version
    answers 409, the typed values kept, saying what the other editor changed."""
    expectation = get_object_or_404(Expectation.objects.select_related("story", "raised_by"), pk=pk)
    if request.method == "GET":
        return _form_page(request, ExpectationForm(instance=expectation), expectation)
    form = ExpectationForm(request.POST, instance=expectation)
    try:
        with transaction.atomic():
            # Validating locks the row (VersionedModelForm.clean) until the save below commits.
            saved = form.is_valid() and services.update_expectation(
                expectation=expectation,
                expected_version=form.cleaned_data["loaded_version"],
                by=request.user,
                **form.changes(),
            )
    except services.StaleVersionError as error:
        form.stale = error
        form.add_error(None, stale_message(error))
        saved = None
    except (services.ApplicationError, ValidationError) as error:
        refusal = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        return _form_page(request, form, _current(pk), status=400, refusal=refusal)
    if not saved:
        if form.stale is not None:
            form.data = form.data.copy()
            form.data["loaded_version"] = str(form.stale.current.version)
            return _form_page(request, form, _current(pk), status=409)
        return _form_page(request, form, _current(pk), status=400)
    messages.success(request, _("Saved “%(title)s”.") % {"title": saved.title})
    return redirect("desk:expectation_detail", pk=pk)


def _current(pk: int) -> Expectation:
    """The expectation as saved (the form's instance holds the editor's refused input)."""
    return get_object_or_404(Expectation.objects.select_related("story", "raised_by"), pk=pk)
