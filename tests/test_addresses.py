"""The addresses and labels cards ask for, made without reverse() and Django's get_FOO_display per
call: each must say exactly what those would, in every language and under any script prefix."""

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix
from django.utils import translation

from events.addresses import slug_path
from events.models import Event, Participation

NAMES = [f"events:{kind}_detail" for kind in ("story", "event", "actor", "topic", "place")]


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES])
@pytest.mark.parametrize("name", NAMES)
def test_slug_path_is_reverse_in_every_language(name, language):
    with translation.override(language):
        assert slug_path(name, "macron-in-moscow_2") == reverse(name, args=["macron-in-moscow_2"])


def test_slug_path_follows_the_script_prefix():
    try:
        set_script_prefix("/newsroom/")
        assert slug_path("events:actor_detail", "putin") == reverse("events:actor_detail", args=["putin"])
        assert slug_path("events:actor_detail", "putin").startswith("/newsroom/")
    finally:
        clear_script_prefix()
    assert slug_path("events:actor_detail", "putin") == reverse("events:actor_detail", args=["putin"])


def test_a_placeholder_like_slug_is_put_in_once():
    assert slug_path("events:topic_detail", "0-slug-0") == reverse("events:topic_detail", args=["0-slug-0"])


def test_a_slug_the_pattern_refuses_fails_as_reverse_does():
    with pytest.raises(NoReverseMatch):
        slug_path("events:actor_detail", "not a slug")
    with pytest.raises(NoReverseMatch):
        slug_path("events:actor_detail", "")


@override_settings(ROOT_URLCONF="tests.urls_without_events")
def test_another_urlconf_is_not_answered_from_the_first():
    with pytest.raises(NoReverseMatch):
        slug_path("events:actor_detail", "putin")


def _djangos(instance, name: str) -> str:
    return instance._get_FIELD_display(instance._meta.get_field(name))


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES])
def test_labels_are_djangos_in_every_language(language):
    with translation.override(language):
        for kind in Event.Kind:
            assert Event(kind=kind).get_kind_display() == _djangos(Event(kind=kind), "kind")
        for status in Event.Status:
            assert Event(status=status).get_status_display() == _djangos(Event(status=status), "status")
        for role in Participation.Role:
            assert Participation(role=role).get_role_display() == _djangos(Participation(role=role), "role")
    with translation.override("fr"):
        assert Event(kind="call").get_kind_display() != "Phone call"


def test_a_value_outside_the_choices_shows_as_it_is():
    assert Event(kind="unheard-of").get_kind_display() == "unheard-of" == _djangos(Event(kind="unheard-of"), "kind")
