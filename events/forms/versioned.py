"""The optimistic lock of every edit form.

`VersionedModelForm` is the optimistic lock of every edit form: it carries the version the editor
loaded and refuses to save over a newer one, so two editors never silently overwrite each other.
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .. import services


def stale_message(error: "services.StaleVersionError") -> str:
    """The refusal of a stale save, with each field the other editor changed and its new value."""
    changed = "; ".join(_("%(label)s is now “%(new)s”") % {"label": c.label, "new": c.new} for c in error.changes)
    if not changed:
        return str(error)
    return _("%(refusal)s Their changes: %(changes)s.") % {"refusal": error, "changes": changed}


def _deleted_message(model: type) -> str:
    """Said when the record being edited was deleted meanwhile: a whole sentence per kind of record."""
    name = model._meta.model_name
    if name == "event":
        return _("This event was deleted since you opened it.")
    if name == "expectation":
        return _("This expectation was deleted since you opened it.")
    return _("This record was deleted since you opened it.")


class VersionedModelForm(forms.ModelForm):
    """A ModelForm for a model with a `version` counter, refusing a save over someone else's change.

    The form carries the version it was loaded with in a hidden field. `clean()` locks the row
    (SELECT ... FOR UPDATE) and compares; `save()` then writes the next version. Validate and save in
    one transaction, as the admin's change view does, so the row stays locked between the check and
    the write and a concurrent save waits, then finds the new version and is refused.
    """

    stale: "services.StaleVersionError | None" = None

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
        model = type(self.instance)
        try:
            services.lock_for_edit(model, self.instance.pk, loaded)
        except model.DoesNotExist:
            raise ValidationError(_deleted_message(model), code="gone") from None
        except services.StaleVersionError as error:
            self.stale = error
            # The form shown again carries the version now saved, so that saving it once more (the
            # editor has seen what changed) is a deliberate overwrite, not a second refusal.
            self.data = self.data.copy()
            self.data[self.add_prefix("loaded_version")] = error.current.version
            raise ValidationError(stale_message(error), code="stale") from None
        return cleaned_data

    def save(self, commit: bool = True) -> Any:
        if self.is_change:
            self.instance.version = self.cleaned_data["loaded_version"] + 1
        return super().save(commit=commit)
