"""Who may reach the desk, on every desk URL, found by walking the URL configuration: a URL added
later is covered without anyone remembering to add it here."""

import pytest
from django.contrib.auth.views import redirect_to_login
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests import factories


def _resolvers(patterns: list) -> list[URLResolver]:
    """Every resolver, those inside others too (the desk is within the languages' i18n_patterns)."""
    found = [p for p in patterns if isinstance(p, URLResolver)]
    return found + [inner for resolver in found for inner in _resolvers(resolver.url_patterns)]


def _desk_patterns() -> list[URLPattern]:
    [desk] = [p for p in _resolvers(get_resolver().url_patterns) if p.namespace == "desk"]
    return [p for p in desk.url_patterns if isinstance(p, URLPattern)]


DESK_URL_NAMES = sorted(p.name for p in _desk_patterns())


@pytest.fixture
def desk_urls(db) -> dict[str, str]:
    """Each desk URL name with a concrete path, its parameters taken from real records."""
    event = factories.EventFactory()
    expectation = factories.ExpectationFactory(story=event.story)
    values = {
        "slug": event.slug,
        "pk": expectation.pk,
        "formset": "participants",
    }
    urls = {}
    for pattern in _desk_patterns():
        kwargs = {}
        for name in pattern.pattern.converters:
            if name == "history_id":
                record = event if "event" in pattern.name else expectation
                kwargs[name] = record.history.first().history_id
            else:
                assert name in values, f"desk:{pattern.name} takes a parameter {name!r} this test cannot fill"
                kwargs[name] = values[name]
        urls[pattern.name] = reverse(f"desk:{pattern.name}", kwargs=kwargs)
    return urls


def test_the_desk_has_the_urls_of_its_contract():
    assert {"home", "event_new", "event_edit", "expectation_detail"} <= set(DESK_URL_NAMES)


@pytest.mark.parametrize("name", DESK_URL_NAMES)
def test_an_anonymous_visitor_is_sent_to_log_in_and_back(client, desk_urls, name):
    url = desk_urls[name]
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, (name, method)
        assert response["Location"] == redirect_to_login(url)["Location"]


@pytest.mark.parametrize("name", DESK_URL_NAMES)
def test_someone_logged_in_outside_the_editors_group_is_refused(client, desk_urls, name):
    client.force_login(factories.UserFactory(username="reader", is_staff=False))
    assert client.get(desk_urls[name]).status_code == 403
    assert client.post(desk_urls[name]).status_code == 403


@pytest.mark.parametrize("name", DESK_URL_NAMES)
def test_an_editor_gets_the_page_or_a_clear_refusal_never_an_error(editor_client, desk_urls, name):
    response = editor_client.get(desk_urls[name])
    # 400: a lookup or row asked for without its parameters; 405: a URL that only takes POST.
    assert response.status_code in (200, 400, 405), (name, response.status_code)


@pytest.mark.parametrize("name", DESK_URL_NAMES)
def test_every_post_needs_the_csrf_token_with_or_without_htmx(editor, desk_urls, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert client.post(desk_urls[name], {"title": "x"}).status_code == 403
    assert client.post(desk_urls[name], {"title": "x"}, headers={"HX-Request": "true"}).status_code == 403


def test_a_superuser_outside_the_group_is_refused_too(client, desk_urls):
    """The desk is for the editors group; the admin stays the fallback for staff."""
    client.force_login(factories.UserFactory(username="root", is_superuser=True))
    assert client.get(desk_urls["home"]).status_code == 403
