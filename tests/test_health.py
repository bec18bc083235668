"""/healthz, and the request id every response carries (a probe is the simplest request to follow)."""

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connections
from django.http import HttpRequest, HttpResponse

from events.views import health
from tracker.middleware import RequestIdFilter, RequestIdMiddleware
from tracker.request_id import current_request_id

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def unreachable_database(monkeypatch):
    """A real connection to the suite's database server, on a port where nothing listens."""
    default = connections["default"]
    unreachable = type(default)({**default.settings_dict, "PORT": "1"}, alias="unreachable")
    with pytest.raises(OperationalError):
        unreachable.ensure_connection()
    monkeypatch.setattr(health, "connection", unreachable)
    yield unreachable
    unreachable.close()


def test_healthz_answers_ok_when_postgresql_and_redis_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_healthz_is_unavailable_when_the_database_is_unreachable(client, unreachable_database):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "down", "redis": "ok"}}


def test_healthz_is_unavailable_when_redis_is_down(client, settings):
    settings.REDIS_URL = UNREACHABLE_REDIS

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"] == {"database": "ok", "redis": "down"}


def test_healthz_checks_only_the_database_where_redis_is_not_configured(client, settings):
    settings.REDIS_URL = ""

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}


def test_healthz_is_never_cached(client):
    response = client.get("/healthz")

    assert "no-store" in response["Cache-Control"]


def test_healthz_answers_only_get(client):
    assert client.post("/healthz").status_code == 405


# --- The request id --------------------------------------------------------------------------------


def test_every_response_carries_a_fresh_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert first
    assert first != second


def test_a_safe_incoming_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a.01_b"})

    assert response["X-Request-ID"] == "edge-7f3a.01_b"


@pytest.mark.parametrize("unsafe", ["two words", "a" * 65, "line\rbreak", "<script>", "id;rm"])
def test_an_unsafe_incoming_request_id_is_replaced(client, unsafe):
    response = client.get("/healthz", headers={"X-Request-ID": unsafe})

    assert response["X-Request-ID"] != unsafe
    assert response["X-Request-ID"]


def test_log_records_made_while_a_request_is_handled_carry_its_id(rf, caplog):
    caplog.handler.addFilter(RequestIdFilter())

    def view(request: HttpRequest) -> HttpResponse:
        logging.getLogger("events.views").warning("handling it")
        return HttpResponse("ok")

    with caplog.at_level(logging.WARNING, logger="events.views"):
        response = RequestIdMiddleware(view)(rf.get("/", headers={"X-Request-ID": "req-view"}))
        response.close()  # as the server does: request_finished forgets the id

    assert response["X-Request-ID"] == "req-view"
    assert [record.request_id for record in caplog.records] == ["req-view"]


def test_the_not_found_log_line_carries_the_request_id(client, caplog):
    caplog.handler.addFilter(RequestIdFilter())

    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/no-such-page/", headers={"X-Request-ID": "req-404"})

    not_found = [record for record in caplog.records if record.name == "django.request"]
    assert not_found
    assert {record.request_id for record in not_found} == {"req-404"}


def test_log_records_outside_a_request_carry_a_placeholder():
    record = logging.LogRecord("tracker", logging.INFO, __file__, 1, "no request here", None, None)

    RequestIdFilter().filter(record)

    assert record.request_id == "-"


def test_the_configured_json_log_line_includes_the_request_id():
    """The handler and formatter that settings.LOGGING gives the console, writing to a buffer."""
    configurator = logging.config.DictConfigurator(django_settings.LOGGING)
    formatter = configurator.configure_formatter(dict(django_settings.LOGGING["formatters"]["json"]))
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.request_id")
    logger.addHandler(handler)
    token = current_request_id.set("req-json")
    try:
        logger.warning("something worth a line")
    finally:
        current_request_id.reset(token)
        logger.removeHandler(handler)

    line = json.loads(buffer.getvalue())
    assert line["request_id"] == "req-json"
    assert line["message"] == "something worth a line"
    assert line["level"] == "WARNING"
