"""The desk's import page: a TimelineJS file (JSON or CSV) previewed, then imported.

Step one posts the file with the story and the publish choice and answers with the dry run: every
bad record by line, or what would be created (the date as readers will see it, the headline, the
media). The upload is then kept in the cache, shared by every web process, for IMPORT_TTL seconds
under a random token bound to the editor, and step two ("Import") posts only that token: the file is
read again from there and imported by the same service as `manage.py import_timeline`.
"""

import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from ...imports import read_timeline
from ...models import Story
from ...permissions import editor_required
from ...services import imports as services
from ...services.base import ApplicationError
from ..public import HtmxHttpRequest

IMPORT_TTL = 60 * 60
PREVIEW_ROWS = 100
ERRORS_SHOWN = 200
STORY_CHOICES = 100


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Timeline file"),
        help_text=gettext_lazy(
            "A TimelineJS JSON file, or a CSV with TimelineJS's spreadsheet columns (Year, Month, Day, Time, "
            "End Year …, Headline, Text, Media, Media Credit, Media Caption, Type, Group)."
        ),
        error_messages={"required": gettext_lazy("Choose the file to import.")},
    )
    story = forms.ChoiceField(label=gettext_lazy("Story"), required=False)
    new_story = forms.CharField(
        label=gettext_lazy("Or a story's slug"),
        required=False,
        max_length=200,
        help_text=gettext_lazy(
            "A new slug creates the story, titled from the file's title row; an existing story's slug imports into it."
        ),
    )
    publish = forms.BooleanField(
        label=gettext_lazy("Publish at once"),
        required=False,
        help_text=gettext_lazy("Otherwise the events are saved as drafts, for the desk to review."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stories = Story.objects.newest_development_first().only("slug", "title")[:STORY_CHOICES]
        self.fields["story"].choices = [("", _("— a new story (give its slug below) —"))] + [
            (story.slug, story.title) for story in stories
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _(
                    "The file is %(size)s; the desk takes files up to %(max)s (IMPORT_MAX_BYTES). "
                    "Import a larger one with manage.py import_timeline."
                )
                % {"size": filesizeformat(upload.size), "max": filesizeformat(settings.IMPORT_MAX_BYTES)}
            )
        return upload

    def clean_new_story(self) -> str:
        slug = self.cleaned_data["new_story"].strip()
        if slug:
            try:
                services.check_story_slug(slug)
            except ApplicationError as exc:
                raise forms.ValidationError(str(exc)) from None
        return slug

    def clean(self) -> dict:
        data = super().clean()
        story, new_story = data.get("story"), data.get("new_story")
        if story and new_story:
            self.add_error("new_story", _("Choose a story or give a slug, not both."))
        elif not story and not new_story and "new_story" not in self.errors:
            self.add_error("story", _("Choose the story to import into, or give a new story's slug."))
        data["slug"] = story or new_story
        return data


def _key(token: str) -> str:
    return f"desk-import:{token}"


def _page(request: HtmxHttpRequest, form: ImportForm, *, status: int = 200, **context) -> HttpResponse:
    return render(request, "desk/import.html", {"desk_section": "import", "form": form, **context}, status=status)


@require_http_methods(["GET", "POST"])
@editor_required
def import_timeline(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST" and "token" in request.POST:
        return _import(request)
    if request.method == "GET":
        return _page(request, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form, status=422)
    upload = form.cleaned_data["file"]
    data, name, slug = upload.read(), upload.name, form.cleaned_data["slug"]
    timeline = read_timeline(data, name)
    context = {
        "timeline": timeline,
        "errors": timeline.errors[:ERRORS_SHOWN],
        "errors_hidden": max(0, len(timeline.errors) - ERRORS_SHOWN),
        "publish": form.cleaned_data["publish"],
    }
    if timeline.errors:
        context["rows"] = timeline.events[:PREVIEW_ROWS]
        return _page(request, form, status=422, **context)
    plan = services.plan_import(timeline=timeline, story_slug=slug)
    token = secrets.token_urlsafe(24)
    entry = {"user": request.user.pk, "name": name, "data": data, "slug": slug, "publish": context["publish"]}
    cache.set(_key(token), entry, IMPORT_TTL)
    context |= {"plan": plan, "rows": plan.to_create[:PREVIEW_ROWS], "token": token}
    return _page(request, form, **context)


def _import(request: HtmxHttpRequest) -> HttpResponse:
    token = request.POST["token"]
    entry = cache.get(_key(token)) if token else None
    if not entry or entry["user"] != request.user.pk:
        refusal = _(
            "This upload is no longer kept (it is kept for an hour, for the editor who sent it): upload the file again."
        )
        return _page(request, ImportForm(), status=400, refusal=refusal)
    timeline = read_timeline(entry["data"], entry["name"])
    try:
        result = services.import_timeline(
            timeline=timeline, story_slug=entry["slug"], publish=entry["publish"], by=request.user
        )
    except ApplicationError as exc:
        return _page(request, ImportForm(), status=409, refusal=str(exc))
    cache.delete(_key(token))
    messages.success(
        request,
        _("Imported %(file)s into “%(story)s”: created %(created)s, unchanged %(unchanged)s.")
        % {
            "file": entry["name"],
            "story": result.story.title,
            "created": result.created,
            "unchanged": result.unchanged,
        },
    )
    return redirect(reverse("desk:event_list") + ("?show=all" if entry["publish"] else ""))
