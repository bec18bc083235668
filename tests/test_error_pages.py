"""Errors in the site's look for readers and editors, and in JSON under /api/, never an HTML page there.

This module is its own URLconf (`pytest.mark.urls`): the site's URLs and handlers, plus a few views
that fail on purpose, on the site and in a small API built with the API's own error handling.
"""

import json
import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from django_ratelimit.exceptions import Ratelimited
from ninja import NinjaAPI

from events.api import errors as api_errors
from tests.factories import StoryFactory, UserFactory
from tracker import errors
from tracker import urls as site_urls

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view broke")


def _rate_limited(request: HttpRequest) -> HttpResponse:
    raise Ratelimited


failing_api = NinjaAPI(urls_namespace="failing-api")
api_errors.install(failing_api)


@failing_api.get("/broken")
def broken(request: HttpRequest) -> dict:
    raise RuntimeError("the API broke")


@failing_api.get("/forbidden")
def forbidden(request: HttpRequest) -> dict:
    raise PermissionDenied


@failing_api.get("/limited")
def limited(request: HttpRequest) -> dict:
    raise Ratelimited


handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500
urlpatterns = [
    path("broken/", _fails),
    path("limited/", _rate_limited),
    path("api/failing/", api_errors.with_json_errors(failing_api.urls)),
    path("api/limited/", _rate_limited),
    *site_urls.urlpatterns,
]


@pytest.fixture
def visitor() -> Client:
    return Client(raise_request_exception=False)


def in_the_site_s_look(response: HttpResponse) -> str:
    """The page's HTML, after checking it is the site's: its header, its stylesheet, its nonce'd CSP."""
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'class="site-header"' in html and "css/site.css" in html
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    return html


# --- The site's pages -------------------------------------------------------------------------------


def test_an_unknown_address_is_the_site_s_404_page(visitor):
    response = visitor.get("/no-such-page/")

    assert response.status_code == 404
    html = in_the_site_s_look(response)
    assert "Page not found" in html and 'href="/"' in html


def test_an_unknown_story_is_the_site_s_404_page(visitor):
    response = visitor.get("/stories/no-such-story/")

    assert response.status_code == 404
    assert "Page not found" in in_the_site_s_look(response)


def test_a_request_for_a_host_the_site_does_not_serve_is_the_site_s_400_page(visitor):
    response = visitor.get("/", headers={"host": "elsewhere.example"})

    assert response.status_code == 400
    assert "could not be understood" in in_the_site_s_look(response)


def test_a_logged_in_non_editor_on_the_desk_gets_the_site_s_403_page(visitor):
    visitor.force_login(UserFactory())

    response = visitor.get("/desk/")

    assert response.status_code == 403
    html = in_the_site_s_look(response)
    assert "You may not open this page" in html
    assert "editors group" in html


def test_a_form_sent_without_its_csrf_token_gets_the_site_s_page_and_changes_nothing():
    story = StoryFactory()
    visitor = Client(enforce_csrf_checks=True)

    response = visitor.post("/subscribe/", {"email": "reader@example.org", "stories": [story.pk]})

    assert response.status_code == 403
    assert "This form could not be accepted" in in_the_site_s_look(response)
    assert not story.subscribers.exists()


def test_a_rate_limited_request_gets_the_site_s_429_page(visitor):
    response = visitor.get("/limited/")

    assert response.status_code == 429
    assert "Too many requests" in in_the_site_s_look(response)


def test_a_failure_gets_the_site_s_static_500_page(visitor):
    response = visitor.get("/broken/")

    assert response.status_code == 500
    html = in_the_site_s_look(response)
    assert "Something went wrong on our side" in html
    assert "<script" not in html


def test_the_500_page_needs_neither_the_database_nor_the_context_processors(monkeypatch, django_assert_num_queries):
    def broken_context_processor(request: HttpRequest) -> dict:
        raise RuntimeError("a context processor broke")

    monkeypatch.setattr("events.context_processors.desk", broken_context_processor)
    with django_assert_num_queries(0):
        response = errors.server_error(RequestFactory().get("/stories/anything/"))

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_the_500_page_is_logged_with_its_traceback(visitor, caplog):
    with caplog.at_level(logging.ERROR, logger="django.request"):
        visitor.get("/broken/")

    assert any(record.exc_info and "the view broke" in str(record.exc_info[1]) for record in caplog.records)


# --- JSON under /api/ -------------------------------------------------------------------------------


def json_error(response: HttpResponse, status: int) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    return detail


def test_an_api_parameter_that_does_not_parse_is_a_json_400(visitor):
    json_error(visitor.get("/api/stories?after=~0"), 400)


def test_a_bad_host_under_the_api_is_a_json_400(visitor):
    json_error(visitor.get("/api/stories", headers={"host": "elsewhere.example"}), 400)


def test_an_api_request_refused_by_its_view_is_a_json_403(visitor):
    json_error(visitor.get("/api/failing/forbidden"), 403)


def test_a_post_without_a_csrf_token_under_the_api_is_a_json_403():
    json_error(Client(enforce_csrf_checks=True).post("/api/no-such-thing"), 403)


@pytest.mark.parametrize("url", ["/api/no-such-thing", "/api/stories/no-such-story", "/api/events/nothing"])
def test_what_the_api_does_not_have_is_a_json_404(visitor, url):
    json_error(visitor.get(url), 404)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_a_method_an_api_url_does_not_take_is_a_json_405_saying_which_it_takes(visitor, method):
    response = getattr(visitor, method)("/api/stories")

    detail = json_error(response, 405)
    assert "GET" in response["Allow"] and "GET" in detail


@pytest.mark.parametrize("url", ["/api/failing/limited", "/api/limited/"])
def test_a_rate_limited_api_request_is_a_json_429(visitor, url):
    json_error(visitor.get(url), 429)


def test_a_failure_in_an_api_view_is_a_json_500_and_logged(visitor, caplog):
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = visitor.get("/api/failing/broken")

    json_error(response, 500)
    assert "the API broke" not in response.content.decode()
    logged = [record for record in caplog.records if record.exc_info and "the API broke" in str(record.exc_info[1])]
    assert len(logged) == 1


def test_a_failure_under_the_api_outside_its_views_is_a_json_500(rf):
    response = errors.server_error(rf.get("/api/stories"))

    assert response.status_code == 500 and response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["detail"]
