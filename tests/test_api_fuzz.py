"""The API fuzzed by schemathesis from its own OpenAPI document: whatever a client sends, no 500, and
every answer is one the document describes (status, content type, headers, body).

Requests go through Django's test handler wrapped as a WSGI app, not Django's WSGIHandler: the real
handler closes the database connection after each request (request_finished), which would end the
test's transaction. The demo story, loaded once for the module, gives the generated requests real
slugs to find besides the made-up ones.
"""

from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
from django.core.management import call_command
from django.db import transaction
from django.test.client import ClientHandler
from hypothesis import HealthCheck

from events import demo_story

pytestmark = pytest.mark.django_db


def _slugs(items) -> list[str]:
    return [item.slug for item in items]


# Most generated slugs and filter values are made up, and answered 404 or 400 before the code behind
# them runs. Half the time a request takes one from the demo story instead, so that the timeline's
# filters, search and cursors are fuzzed on a story that has events.
DEMO = {
    "story": [demo_story.STORY["slug"]],
    "event": _slugs(demo_story.EVENTS),
    "actor": _slugs(demo_story.ACTORS),
    "topic": _slugs(demo_story.TOPICS),
    "place": _slugs(demo_story.PLACES),
    # Well-formed cursors of the plain list and of a search (the ids need not exist).
    "cursor": [
        "2022-02-08T12:00:00.000000Z~1",
        "2022-02-07T15:00:00.000000Z~99",
        "0.0607927~2022-02-08T12:00:00.000000Z~1",
    ],
}


def _from(dictionary: str) -> dict:
    return {"dictionary": dictionary, "probability": 0.5}


CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "dictionaries": {name: {"values": values} for name, values in DEMO.items()},
        "operations": [
            {
                "include-path-regex": r"^/api/stories/\{slug\}(/expectations)?$",
                "parameters": {"path.slug": _from("story")},
            },
            {"include-path-regex": "^/api/events/", "parameters": {"path.slug": _from("event")}},
            {"include-path-regex": "^/api/actors/", "parameters": {"path.slug": _from("actor")}},
            {"include-path-regex": "^/api/topics/", "parameters": {"path.slug": _from("topic")}},
            {
                "include-path": "/api/stories/{slug}/events",
                "parameters": {
                    "path.slug": _from("story"),
                    "query.actor": _from("actor"),
                    "query.topic": _from("topic"),
                    "query.place": _from("place"),
                    "query.after": _from("cursor"),
                },
            },
        ],
        "checks": {
            # A schema cannot say which slugs exist in a story or which cursors we wrote: a well-formed
            # but unknown actor filter, or a cursor the API did not write, is rightly refused with 400.
            "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "400", "404"]},
        },
    }
)


class DjangoTestApp:
    """Django's test request handler as a WSGI application, for schemathesis's WSGI transport."""

    def __init__(self) -> None:
        self.handler = ClientHandler(enforce_csrf_checks=True)

    def __call__(self, environ: dict, start_response):
        response = self.handler(environ)
        headers = [*response.items(), *(("Set-Cookie", c.output(header="")) for c in response.cookies.values())]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [response.content]


# Loaded when the module is collected, from the document the API serves (which needs no database).
# Not through schemathesis.pytest.from_fixture: its lazy loading fails on pytest 9 (`Function._nodeid`).
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", DjangoTestApp(), config=CONFIG)


@pytest.fixture(scope="module")
def _demo_for_the_module(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Loaded once, in a transaction rolled back after the module (each test's own is a savepoint)."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo_story", verbosity=0)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(_demo_for_the_module, db) -> dict[str, list[str]]:
    return DEMO


TIMELINE = "/api/stories/{slug}/events"
SETTINGS = {
    "deadline": None,
    "derandomize": True,  # the same requests on every run: a failure here is reproducible
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
}


@schema.exclude(path=TIMELINE).parametrize()
@hypothesis.settings(max_examples=25, **SETTINGS)
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(case, demo):
    case.call_and_validate()


# Everything but the timeline excluded: `include` would be combined with the per-operation settings above.
@schema.exclude(path_regex=r"^(?!/api/stories/\{slug\}/events$)").parametrize()
@hypothesis.settings(max_examples=150, **SETTINGS)
def test_the_timelines_filters_search_and_cursors_take_any_value_without_a_server_error(case, demo):
    """The endpoint with the most parameters, and the only one reaching full-text search: more tries."""
    case.call_and_validate()


SLUG_KINDS = {"/api/stories/": "story", "/api/events/": "event", "/api/actors/": "actor", "/api/topics/": "topic"}


def test_the_demo_story_answers_every_endpoint_as_documented(demo):
    """Generated requests find the demo's slugs only half the time: each operation once more with them."""
    for result in schema.get_all_operations():
        operation = result.ok()
        cases = [operation.Case()]
        if "{slug}" in operation.path:
            kind = next(kind for prefix, kind in SLUG_KINDS.items() if operation.path.startswith(prefix))
            cases = [operation.Case(path_parameters={"slug": slug}) for slug in demo[kind][:3]]
        for case in cases:
            response = case.call_and_validate()
            assert response.status_code == 200, (operation.path, case.path_parameters)
