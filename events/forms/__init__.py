"""Forms for editors: versioned.py (the optimistic lock every edit form shares), admin.py, and the
desk's events.py and expectations.py."""

from .admin import EventAdminForm, ExpectationAdminForm
from .expectations import CancelForm, ExpectationForm, ExtendForm, FulfilForm, ReviewForm
from .versioned import VersionedModelForm, stale_message

__all__ = [
    "CancelForm",
    "EventAdminForm",
    "ExpectationAdminForm",
    "ExpectationForm",
    "ExtendForm",
    "FulfilForm",
    "ReviewForm",
    "VersionedModelForm",
    "stale_message",
]
