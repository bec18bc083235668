import pytest

from tests.factories import EventFactory

pytestmark = pytest.mark.django_db


def test_a_published_event_is_listed_as_published():
    event = EventFactory()
    assert event.is_published
