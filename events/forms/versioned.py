"""Forms for editors.

`VersionedModelForm` is the optimistic lock of every edit form: it carries the version the editor
loaded and refuses to save over a newer one, so two editors never silently overwrite each other.
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from .models import Event, Expectation


class VersionedModelForm(forms.ModelForm):
    """A ModelForm for a model with a `version` counter, refusing a save over someone else's change.

    The form carries the version it was loaded with in a hidden field. `clean()` locks the row
    (SELECT ... FOR UPDATE) and compares; `save()` then writes the next version. Validate and save in
    one transaction, as the admin's change view does, so the row stays locked between the check and
    the write and a concurrent save waits, then finds the new version and is refused.
    """

    stale_message = "This %(name)s was changed by someone else since you opened it; reload and apply your change again."

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_change:
            field = self.fields["loaded_version"]
            field.initial = self.instance.version
            field.required = True

    @property
    def is_change(self) -> bool:
        return not self.instance._state.adding

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        loaded = cleaned_data.get("loaded_version")
        if not self.is_change or loaded is None:
            return cleaned_data
        manager = type(self.instance)._default_manager
        current = manager.select_for_update().filter(pk=self.instance.pk).values_list("version", flat=True).first()
        name = self.instance._meta.verbose_name
        if current is None:
            raise ValidationError("This %(name)s was deleted since you opened it.", code="gone", params={"name": name})
        if current != loaded:
            raise ValidationError(self.stale_message, code="stale", params={"name": name})
        return cleaned_data

    def save(self, commit: bool = True) -> Any:
        if self.is_change:
            self.instance.version = self.cleaned_data["loaded_version"] + 1
        return super().save(commit=commit)


class EventAdminForm(VersionedModelForm):
    class Meta:
        model = Event
        # Not `version`: the form moves it forward itself. Publication goes through publish_event.
        fields = [
            "story",
            "kind",
            "title",
            "slug",
            "summary",
            "start",
            "start_precision",
            "end",
            "end_precision",
            "place",
            "forum",
            "status",
            "topics",
        ]


class ExpectationAdminForm(VersionedModelForm):
    class Meta:
        model = Expectation
        fields = [
            "story",
            "title",
            "slug",
            "description",
            "raised_by",
            "expected_actors",
            "place",
            "topics",
            "due_on",
            "due_precision",
            "latest_on",
            "status",
            "fulfilled_by",
        ]
