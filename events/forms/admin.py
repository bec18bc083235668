"""The admin's change forms for events and expectations, optimistically locked."""

from ..models import Event, Expectation
from .versioned import VersionedModelForm


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
