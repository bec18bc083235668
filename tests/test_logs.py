"""Structured logs: one JSON line per request and per task run, a request's id carried into the tasks
it queues (and the tasks they queue), and no address, token or secret in any line."""

import json
import logging
import smtplib
import time

import pytest
from celery import shared_task
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from events import tokens
from events.models import Event
from tests import factories, log_capture
from tests.test_desk_events import NEW, _development
from tracker.access_log import AccessLogMiddleware
from tracker.celery import app
from tracker.middleware import RequestIdMiddleware
from tracker.request_id import current_request_id


class Lines(list):
    """The JSON lines logged during a test, parsed, as the console handler formats them."""

    def of(self, logger: str) -> list[dict]:
        """The lines of a logger and its children."""
        return [line for line in self if line["logger"] == logger or line["logger"].startswith(logger + ".")]

    @property
    def text(self) -> str:
        return "\n".join(json.dumps(line) for line in self)


class _Collect(logging.Handler):
    def __init__(self, lines: Lines) -> None:
        super().__init__()
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines():
    collected = Lines()
    handler = _Collect(collected)
    console = next(h for h in logging.getLogger().handlers if h.name == "console")
    handler.setFormatter(console.formatter)
    for log_filter in console.filters:
        handler.addFilter(log_filter)
    logging.getLogger().addHandler(handler)
    yield collected
    logging.getLogger().removeHandler(handler)


# --- One line per request -------------------------------------------------------------------------


def test_a_request_logs_one_line_with_its_method_path_status_duration_and_id(client, db, lines):
    client.get("/healthz", headers={"X-Request-ID": "req-access"})

    [line] = lines.of("tracker.access")
    assert line["level"] == "INFO" and line["time"]
    assert (line["request_id"], line["method"], line["path"], line["status"]) == ("req-access", "GET", "/healthz", 200)
    assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0


def test_the_query_string_is_not_logged(client, db, lines):
    client.get("/?q=kyiv&next=/desk/secret-place/")

    [line] = lines.of("tracker.access")
    assert line["path"] == "/"
    assert "kyiv" not in lines.text and "secret-place" not in lines.text


def test_a_page_served_from_the_page_cache_and_a_304_are_logged_too(client, db, lines):
    story = factories.StoryFactory()
    factories.EventFactory(story=story)
    url = reverse("events:story_detail", args=[story.slug])

    first = client.get(url)
    client.get(url)
    client.get(url, headers={"If-None-Match": first["ETag"]})

    statuses = [(line["path"], line["status"]) for line in lines.of("tracker.access")]
    assert statuses == [(url, 200), (url, 200), (url, 304)]


def test_a_missing_page_logs_its_access_line_with_the_same_id_as_djangos_warning(client, db, lines):
    client.get("/no-such-page/", headers={"X-Request-ID": "req-404"})

    [access] = lines.of("tracker.access")
    assert access["status"] == 404
    assert {line["request_id"] for line in lines.of("django.request")} == {"req-404"}


# --- Nothing secret in any line -------------------------------------------------------------------


def test_a_subscriber_link_is_logged_without_its_token(client, db, lines):
    subscriber = factories.SubscriberFactory()
    token = tokens.make_token(subscriber, "unsubscribe")

    client.get(reverse("subscribe:unsubscribe", args=[token]))

    [line] = lines.of("tracker.access")
    assert line["path"] == "/subscribe/unsubscribe/<token>/"
    assert token not in lines.text


def test_an_expired_link_answered_400_is_logged_without_its_token(client, db, lines, monkeypatch):
    token = tokens.make_token(factories.SubscriberFactory(confirmed_at=None), "confirm")
    monkeypatch.setitem(tokens.MAX_AGE, "confirm", -1)

    response = client.get(reverse("subscribe:confirm", args=[token]))

    assert response.status_code == 400
    assert lines.of("django.request"), "Django's Bad Request line is there, redacted"
    assert token not in lines.text


def test_addresses_tokens_and_the_secret_key_are_redacted_whoever_logs_them(db, lines):
    subscriber = factories.SubscriberFactory(email="reader.secret@example.org")
    token = tokens.make_token(subscriber, "manage")
    refused = smtplib.SMTPRecipientsRefused({subscriber.email: (550, b"5.1.1 <reader.secret@example.org> unknown")})

    logger = logging.getLogger("tests.logs")
    logger.warning("send failed: %r", refused)
    logger.warning("link /subscribe/manage/%s/ and key %s", token, settings.SECRET_KEY)
    try:
        raise ValueError(f"bad address {subscriber.email}")
    except ValueError:
        logger.exception("with a traceback")

    assert "reader.secret" not in lines.text
    assert token not in lines.text and settings.SECRET_KEY not in lines.text
    assert "<email>" in lines[0]["message"] and "<signed>" in lines[1]["message"]


def test_a_failed_login_logs_no_password(client, editor, lines):
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post(reverse("login"), {"username": editor.username, "password": "wrong-horse-battery"})

    assert lines.of("axes"), "the lockout is logged"
    assert "wrong-horse-battery" not in lines.text


def test_the_run_wide_check_flags_lines_with_an_address_or_a_forbidden_value():
    logged = ['{"message": "sent to reader1@example.org"}', '{"message": "key s3cret-value"}', '{"message": "ok"}']

    assert log_capture.offending_lines(logged, ["s3cret-value"]) == logged[:2]


# --- One line per task run, with the request id that queued it ------------------------------------


@pytest.fixture
def eager_tasks():
    was = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = was


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_a_request_logs_its_run_with_that_request_id(editor_client, lines, eager_tasks):
    """Publishing queues the alert run; eager here, so it runs inside the request."""
    factories.ActorFactory(name="Emmanuel Macron", slug="emmanuel-macron")

    response = editor_client.post(NEW, _development(publish="1"), headers={"X-Request-ID": "req-publish"})

    assert response.status_code == 302 and Event.objects.filter(publication="published").exists()
    [run] = lines.of("tracker.tasks")
    assert (run["task"], run["state"], run["request_id"]) == ("events.tasks.send_alerts", "SUCCESS", "req-publish")
    assert run["task_id"] and run["duration_ms"] >= 0 and run["level"] == "INFO" and run["time"]
    [access] = lines.of("tracker.access")
    assert access["request_id"] == "req-publish"


@shared_task(name="tests.test_logs.follow_up")
def follow_up() -> str:
    return current_request_id.get()


@shared_task(name="tests.test_logs.queue_follow_up")
def queue_follow_up() -> str:
    return follow_up.delay().id


@pytest.fixture
def worker(transactional_db):
    """A worker thread consuming from the suite's Redis: messages, headers and all."""
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield
    app.control.purge()


@pytest.mark.worker
def test_a_task_queued_by_a_task_on_a_worker_carries_the_request_id_of_the_request(rf, worker, lines):
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(queue_follow_up.delay().id)

    response = AccessLogMiddleware(RequestIdMiddleware(view))(rf.get("/", headers={"X-Request-ID": "req-chain"}))
    response.close()
    follow_up_id = app.AsyncResult(response.content.decode()).get(timeout=30)
    seen_by_follow_up = app.AsyncResult(follow_up_id).get(timeout=30)

    assert seen_by_follow_up == "req-chain"
    # A run's line is written just after its result is stored.
    deadline = time.monotonic() + 30
    while len(lines.of("tracker.tasks")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    runs = {line["task"]: line for line in lines.of("tracker.tasks")}
    assert runs.keys() == {"tests.test_logs.queue_follow_up", "tests.test_logs.follow_up"}
    assert {line["request_id"] for line in runs.values()} == {"req-chain"}
    assert runs["tests.test_logs.follow_up"]["task_id"] == follow_up_id
    assert [line["request_id"] for line in lines.of("tracker.access")] == ["req-chain"]
