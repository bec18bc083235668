"""Hostile input to every public form and filter, every desk form and every API parameter: markup,
SQL fragments, overlong strings, invalid UTF-8 and NUL bytes, impossible dates, huge numbers and
damaged cursors, oversized and mislabelled uploads, repeated parameters. Each is answered with a 4xx
or the form again with its message, never a 500, and no markup sent comes back raw in HTML.

Each test sends many requests and reports every bad answer at once (the request, then the status or
the exception), so one run lists all there is to fix. The demo story, loaded once for the module,
gives the requests real slugs, events and expectations behind them.
"""

from collections.abc import Iterator
from urllib.parse import urlencode

import hypothesis
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from events import demo_story
from events.models import Event, Expectation, Subscriber
from events.tokens import make_token
from tests import hostile
from tests.hostile import DATES, EVERYTHING, HUGE_FORM_VALUE, INVALID_UTF8, SAMPLE, TEXT, XSS

pytestmark = pytest.mark.django_db

STORY = demo_story.STORY["slug"]
EVENT = demo_story.EVENTS[0].slug
ACTOR = demo_story.ACTORS[0].slug
TOPIC = demo_story.TOPICS[0].slug
PLACE = demo_story.PLACES[0].slug
FILTERS = ["q", "actor", "topic", "kind", "place", "from_date", "to_date", "after"]
FAST = hypothesis.settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def _demo_for_the_module(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Loaded once, in a transaction rolled back after the module (each test's own is a savepoint)."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo_story", verbosity=0)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(_demo_for_the_module, db) -> None:
    return None


class Probe:
    """Sends requests and keeps each bad answer, to report them all at the end."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.failures: list[str] = []

    def send(self, method: str, path: str, label: str = "", **kwargs) -> None:
        label = label or f"{method} {path} {kwargs.get('QUERY_STRING', '')}"[:300]
        try:
            response = self.client.generic(method, path, **kwargs)
        except Exception as exc:  # the test client re-raises a view's exception: a 500 in production
            self.failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:200]}")
            return
        if found := hostile.problems(response):
            self.failures.append(f"{label}: {', '.join(found)}")

    def get(self, path: str, params: dict | list | None = None, **kwargs) -> None:
        query = urlencode(params or {}, doseq=True)
        label = f"GET {path}?{query}"[:300]
        self.send("GET", path, label, QUERY_STRING=query, **kwargs)

    def get_raw(self, path: str, query: str, **kwargs) -> None:
        self.send("GET", path, f"GET {path}?{query!r}"[:300], QUERY_STRING=query, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> None:
        label = f"POST {path} {_short(data)}"
        try:
            response = self.client.post(path, data, **kwargs)
        except Exception as exc:
            self.failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:200]}")
            return
        if found := hostile.problems(response):
            self.failures.append(f"{label}: {', '.join(found)}")

    def post_raw(self, path: str, body: bytes | str, content_type: str) -> None:
        data = body.encode("latin-1") if isinstance(body, str) else body
        self.send("POST", path, f"POST {path} {content_type} {data[:80]!r}", data=data, content_type=content_type)

    def assert_clean(self) -> None:
        assert not self.failures, f"{len(self.failures)} bad answers:\n" + "\n".join(self.failures[:60])


def _short(data: dict) -> str:
    return repr({name: (value[:40] if isinstance(value, str) else value) for name, value in data.items()})[:300]


@pytest.fixture
def probe(demo, client) -> Probe:
    return Probe(client)


@pytest.fixture
def desk(demo, editor_client) -> Probe:
    return Probe(editor_client)


# --- Readers' pages: filters, search, cursors ------------------------------------------------------

TIMELINES = [
    f"/stories/{STORY}/",
    f"/actors/{ACTOR}/",
    f"/topics/{TOPIC}/",
    f"/places/{PLACE}/",
]
EXPECTATION_LISTS = [
    f"/stories/{STORY}/expectations/",
    f"/actors/{ACTOR}/expectations/",
    f"/topics/{TOPIC}/expectations/",
    f"/places/{PLACE}/expectations/",
]
SINCE = "2022-02-01T00:00:00.000000Z"


@pytest.mark.parametrize("path", TIMELINES)
def test_every_filter_of_a_timeline_refuses_hostile_values_without_a_server_error(probe, path):
    for name in FILTERS:
        # Every payload on the story page's free text and cursor, every date on its dates; a sample elsewhere.
        values = SAMPLE
        if path == TIMELINES[0]:
            values = {
                "q": EVERYTHING,
                "after": EVERYTHING,
                "from_date": [*SAMPLE, *DATES],
                "to_date": [*SAMPLE, *DATES],
            }
            values = values.get(name, SAMPLE)
        for value in values:
            probe.get(path, {name: value})
    probe.get(path, {"q": "Macron", "after": "~"}, headers={"HX-Request": "true"})
    probe.assert_clean()


@pytest.mark.parametrize("path", [f"/stories/{STORY}/updates/", f"/stories/{STORY}/new/"])
def test_the_live_notice_refuses_hostile_times_and_filters(probe, path):
    for value in [*hostile.DATES, *SAMPLE]:
        probe.get(path, {"since": value})
    for name in FILTERS:
        for value in SAMPLE:
            probe.get(path, {"since": SINCE, name: value})
    probe.assert_clean()


@pytest.mark.parametrize("path", EXPECTATION_LISTS)
def test_expectation_lists_refuse_hostile_statuses_and_cursors(probe, path):
    for value in SAMPLE:
        probe.get(path, {"status": value})
    for value in [*SAMPLE, *hostile.CURSORS]:
        probe.get(path, {"status": "pending", "after": value})
    probe.assert_clean()


def test_feeds_and_the_embed_ignore_or_refuse_hostile_parameters(probe):
    for path in (
        f"/stories/{STORY}/feed.atom",
        f"/stories/{STORY}/calendar.ics",
        f"/stories/{STORY}/timeline.json",
        f"/actors/{ACTOR}/feed.atom",
        f"/topics/{TOPIC}/feed.atom",
        f"/stories/{STORY}/embed/",
        "/",
        f"/events/{EVENT}/",
    ):
        for value in SAMPLE:
            probe.get(path, {"events": value, "q": value, "page": value})
    probe.assert_clean()


@pytest.mark.parametrize("value", INVALID_UTF8)
def test_invalid_utf8_in_any_query_string_is_not_a_server_error(probe, value):
    paths = [*TIMELINES, *EXPECTATION_LISTS, f"/stories/{STORY}/updates/", f"/stories/{STORY}/new/"]
    paths += [f"/stories/{STORY}/embed/", f"/stories/{STORY}/feed.atom", "/subscribe/", "/"]
    for path in paths:
        for query in hostile.raw_queries([*FILTERS, "status", "events", "story"], value):
            probe.get_raw(path, query)
            probe.get_raw(path, f"since={SINCE}&{query}")
            probe.get_raw(path, f"{query}&since={SINCE}")
    probe.assert_clean()


def test_repeated_and_unknown_parameters_are_not_a_server_error(probe):
    repeated = [
        ("q", "Macron"),
        ("q", "<script>alert(1)</script>"),
        ("actor", ACTOR),
        ("actor", "nobody"),
        ("kind", "meeting"),
        ("kind", "visit"),
        ("from_date", "2022-02-01"),
        ("from_date", "2022-02-30"),
        ("after", "~"),
        ("after", "x~1"),
        ("status", "pending"),
        ("status", "overdue"),
        ("since", SINCE),
        ("since", "2022-02-30T00:00:00Z"),
        ("<script>alert(1)</script>", "x"),
        ("a" * 10_000, "b"),
    ]
    for path in [*TIMELINES, *EXPECTATION_LISTS, f"/stories/{STORY}/updates/", f"/stories/{STORY}/new/"]:
        probe.get(path, repeated)
        probe.get_raw(path, "&&&=&q&q=&=x&%=%&%zz=%GG&q=%")
        probe.get_raw(path, "q=" + "%" * 1000)
    probe.assert_clean()


def test_hostile_slugs_in_addresses_are_a_404(probe):
    for prefix in ("/stories/", "/events/", "/actors/", "/topics/", "/places/", "/subscribe/confirm/"):
        for slug in ["%3Cscript%3Ealert(1)%3C/script%3E", "%00", "%FF%FE", "a" * 10_000, "..%2F..%2Fetc%2Fpasswd"]:
            probe.get(f"{prefix}{slug}/")
    probe.assert_clean()


@FAST
@given(name=st.sampled_from(FILTERS), value=hostile.hostile_text, other=hostile.hostile_text)
def test_any_text_in_the_story_pages_filters_is_answered_without_a_server_error(probe, name, value, other):
    probe.get(f"/stories/{STORY}/", {name: value, "q": other})
    probe.assert_clean()


# --- Subscribing -----------------------------------------------------------------------------------

SUBSCRIBE = "/subscribe/"


@pytest.fixture
def subscriber(demo) -> Subscriber:
    return Subscriber.objects.create(email="reader@example.org", frequency="daily")


def _subscription(**changes) -> dict:
    data = {"email": "reader@example.org", "stories": ["1"], "frequency": "daily"}
    data.update(changes)
    return data


def test_the_subscribe_form_refuses_hostile_values_in_each_field_with_its_message(probe):
    for value in [*SAMPLE, HUGE_FORM_VALUE]:
        probe.get(SUBSCRIBE, {"story": value})
        for name in ("email", "stories", "topics", "actors", "frequency"):
            probe.post(SUBSCRIBE, _subscription(**{name: value}))
        probe.post(f"{SUBSCRIBE}?story={STORY}", _subscription(email=value, stories=[value, "1", str(10**30)]))
    probe.assert_clean()


def test_a_refused_sign_up_shows_the_message_and_escapes_what_was_typed(probe):
    for value in XSS:
        response = probe.client.post(SUBSCRIBE, _subscription(email=value))
        assert response.status_code == 400
        assert "Enter a whole email address" in response.text
        assert value not in response.text


@pytest.mark.parametrize("value", INVALID_UTF8)
def test_invalid_utf8_and_nul_in_subscribe_bodies_are_refused(probe, value):
    for name in ("email", "stories", "frequency"):
        for pair in hostile.raw_pairs(name, value):
            probe.post_raw(SUBSCRIBE, f"{pair}&stories=1&frequency=daily", "application/x-www-form-urlencoded")
    for pair in hostile.raw_queries(["email", "stories", "frequency"], value):
        probe.post_raw(SUBSCRIBE, pair, "application/x-www-form-urlencoded; charset=latin-1")
        probe.post_raw(SUBSCRIBE, pair, "application/x-www-form-urlencoded; charset=utf-16")
    probe.post_raw(
        SUBSCRIBE, b"email=a%00b%40example.org&stories=1&frequency=daily", "application/x-www-form-urlencoded"
    )
    probe.assert_clean()


def test_subscribe_bodies_of_the_wrong_type_are_refused(probe):
    for body, content_type in [
        (b'{"email": "reader@example.org"}', "application/json"),
        (b"<xml/>", "text/xml"),
        (
            b"--boundary\r\nContent-Disposition: form-data; name=email\r\n\r\nx",
            "multipart/form-data; boundary=boundary",
        ),
        (b"garbage", "multipart/form-data"),
        (b"garbage", "multipart/form-data; boundary="),
        (b"email=reader%40example.org", "application/x-www-form-urlencoded; charset=no-such-charset"),
        (b"\xff" * 100_000, "application/octet-stream"),
        (b"email=" + b"x" * 3_000_000, "application/x-www-form-urlencoded"),
    ]:
        probe.post_raw(SUBSCRIBE, body, content_type)
    probe.assert_clean()


def test_hostile_tokens_in_email_links_are_refused(probe):
    tokens = ["x", "a" * 10_000, "eyJhIjoxfQ", "%00", "%FF", "1:abc:def", "<script>alert(1)</script>"]
    for purpose in ("confirm", "manage", "unsubscribe"):
        for token in tokens:
            probe.get(f"{SUBSCRIBE}{purpose}/{token}/")
            probe.post(f"{SUBSCRIBE}{purpose}/{token}/", {"List-Unsubscribe": "One-Click"})
    probe.assert_clean()


def test_the_preferences_form_refuses_hostile_values(probe, subscriber):
    subscriber.confirmed_at = subscriber.created_at
    subscriber.save()
    path = reverse("subscribe:manage", args=[make_token(subscriber, "manage")])
    for value in [*SAMPLE, HUGE_FORM_VALUE]:
        for name in ("stories", "topics", "actors", "frequency"):
            probe.post(path, {"stories": ["1"], "frequency": "daily", name: value})
        probe.get(path, {"saved": value})
    for value in INVALID_UTF8:
        for pair in hostile.raw_pairs("frequency", value):
            probe.post_raw(path, f"stories=1&{pair}", "application/x-www-form-urlencoded")
    probe.assert_clean()


# --- The desk ---------------------------------------------------------------------------------------


def _event() -> Event:
    return Event.objects.get(slug=EVENT)


def _expectation() -> Expectation:
    return Expectation.objects.filter(story__slug=STORY).order_by("id").first()


def test_the_desks_lists_and_lookups_refuse_hostile_parameters(desk):
    event, expectation = _event(), _expectation()
    gets = {
        "/desk/changes/": ["before"],
        "/desk/events/": ["show", "page"],
        "/desk/expectations/": ["show", "story", "page"],
        f"/desk/expectations/{expectation.pk}/": ["q"],
        f"/desk/events/{event.slug}/history/": ["from", "to", "page"],
        f"/desk/expectations/{expectation.pk}/history/": ["from", "to", "page"],
        "/desk/events/new/": ["story"],
        "/desk/expectations/new/": ["story", "event"],
        "/desk/lookups/actors/": ["q", "participants-0-actor"],
        "/desk/events/rows/participants/": ["participants-TOTAL_FORMS"],
        "/desk/events/rows/media/": ["media-TOTAL_FORMS"],
    }
    for path, names in gets.items():
        for name in names:
            for value in [*SAMPLE, *hostile.DATES]:
                desk.get(path, {name: value})
        for value in INVALID_UTF8:
            for query in hostile.raw_pairs(names[0], value):
                desk.get_raw(path, query)
    desk.get(f"/desk/expectations/{expectation.pk}/", {"q": "<script>alert(1)</script>"}, headers={"HX-Request": "1"})
    desk.get(f"/desk/events/{event.slug}/history/", {"from": "1", "to": str(10**30)})
    for value in [*TEXT, HUGE_FORM_VALUE]:
        desk.post("/desk/preview/", {"summary": value})
    desk.assert_clean()


def _development(**changes) -> dict:
    """A whole development as the form posts it (tests/test_desk_events.py has the same)."""
    data = {
        "story": str(_event().story_id),
        "title": "Macron and Putin meet in Moscow",
        "kind": "meeting",
        "status": "happened",
        "date": "2022-02-07",
        "time": "18:00",
        "precision": "exact",
        "time_zone": "Europe/Moscow",
        "summary": "Five hours of *talks* at the Kremlin.",
        "participants-TOTAL_FORMS": "1",
        "participants-INITIAL_FORMS": "0",
        "participants-0-actor": "Emmanuel Macron",
        "participants-0-role": "guest",
        "sources-TOTAL_FORMS": "1",
        "sources-INITIAL_FORMS": "0",
        "sources-0-url": "https://www.reuters.com/world/europe/macron-putin-2022-02-07/",
        "points-TOTAL_FORMS": "1",
        "points-INITIAL_FORMS": "0",
        "points-0-title": "NATO expansion",
        "points-0-side_a": "Emmanuel Macron",
        "points-0-stance_a": "Sought de-escalation.",
        "points-0-side_b": "Vladimir Putin",
        "points-0-stance_b": "Reiterated his demands.",
        "expected-TOTAL_FORMS": "1",
        "expected-INITIAL_FORMS": "0",
        "expected-0-title": "Macron travels to Kyiv",
        "expected-0-due_on": "2022-02-08",
        "expected-0-due_precision": "day",
        "media-TOTAL_FORMS": "0",
        "media-INITIAL_FORMS": "0",
        "save_draft": "1",
    }
    data.update(changes)
    return data


DEVELOPMENT_FIELDS = [
    "story",
    "title",
    "kind",
    "status",
    "date",
    "time",
    "precision",
    "time_zone",
    "summary",
    "place",
    "forum",
    "end_date",
    "participants-TOTAL_FORMS",
    "participants-INITIAL_FORMS",
    "participants-0-actor",
    "participants-0-role",
    "participants-0-new_kind",
    "sources-TOTAL_FORMS",
    "sources-0-url",
    "sources-0-published_on",
    "points-0-title",
    "points-0-topic",
    "points-0-side_a",
    "expected-0-title",
    "expected-0-due_on",
    "expected-0-due_precision",
    "media-TOTAL_FORMS",
    "loaded_version",
    "_validate",
    "add",
    "move",
]
FORM_VALUES = [*XSS[:2], hostile.SQL[1], "a\x00b", "2022-02-30", "99999-01-01", "0000-01-01", str(10**30), "-1", "NaN"]
FORM_VALUES += ["a" * 10_000]
# For the event form's thirty-odd fields: one of each kind (its SQL goes through the same ORM).
FEW_FORM_VALUES = [XSS[1], "a\x00b", "2022-02-30", str(10**30), "-1", "a" * 10_000]


def test_log_a_development_refuses_hostile_values_in_each_field_with_a_form_error(desk):
    for name in DEVELOPMENT_FIELDS:
        for value in FEW_FORM_VALUES:
            desk.post("/desk/events/new/", _development(**{name: value}))
    for name in ("title", "summary", "participants-0-actor", "sources-0-url"):
        desk.post("/desk/events/new/", _development(**{name: HUGE_FORM_VALUE}))
    desk.assert_clean()


def test_editing_an_event_refuses_hostile_values_and_versions(desk):
    event = _event()
    path = f"/desk/events/{event.slug}/"
    for name in ("title", "date", "time", "precision", "time_zone", "loaded_version", "summary"):
        for value in FEW_FORM_VALUES:
            desk.post(path, _development(**{"loaded_version": str(event.version), "save": "1", name: value}))
    desk.assert_clean()


def test_a_hostile_title_is_saved_as_text_and_shown_escaped(desk):
    payload = XSS[1]
    response = desk.client.post("/desk/events/new/", _development(title=payload))
    assert response.status_code == 302
    event = Event.objects.get(title=payload)
    page = desk.client.get(f"/desk/events/{event.slug}/")
    assert page.status_code == 200
    assert payload not in page.text
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page.text


@pytest.mark.parametrize("value", INVALID_UTF8)
def test_invalid_utf8_in_desk_form_bodies_is_refused(desk, value):
    event, expectation = _event(), _expectation()
    for path in ("/desk/events/new/", f"/desk/events/{event.slug}/", "/desk/expectations/new/"):
        names = ["title", "story", "date", "time", "time_zone", "summary", "participants-0-actor", "due_on"]
        for body in hostile.raw_queries(names, value):
            desk.post_raw(path, f"{body}&kind=meeting&save_draft=1", "application/x-www-form-urlencoded")
    for decision in ("fulfil", "extend", "cancel", "review"):
        for pair in hostile.raw_pairs("loaded_version", value):
            desk.post_raw(f"/desk/expectations/{expectation.pk}/{decision}/", pair, "application/x-www-form-urlencoded")
    desk.post_raw(
        f"/desk/events/{event.slug}/corrections/",
        f"text=a{value.decode('latin-1')}",
        "application/x-www-form-urlencoded",
    )
    desk.assert_clean()


def test_expectation_forms_and_decisions_refuse_hostile_values(desk):
    expectation = _expectation()
    version = str(expectation.version)
    raise_fields = ["story", "title", "description", "expected_actors", "place", "topics", "due_on", "due_precision"]
    raise_fields += ["latest_on", "raised_by"]
    base = {"story": str(expectation.story_id), "title": "Macron travels to Kyiv", "due_precision": "day"}
    for name in raise_fields:
        for value in FEW_FORM_VALUES:
            desk.post("/desk/expectations/new/", {**base, name: value})
            desk.post(f"/desk/expectations/{expectation.pk}/edit/", {**base, "loaded_version": version, name: value})
    desk.post(f"/desk/expectations/{expectation.pk}/edit/", {**base, "loaded_version": str(10**30)})
    decisions = {
        "fulfil": ["event", "loaded_version"],
        "extend": ["due_on", "due_precision", "latest_on", "reason", "loaded_version"],
        "cancel": ["reason", "outcome", "loaded_version", "supersede"],
        "review": ["loaded_version"],
    }
    defaults = {"loaded_version": version, "due_on": "2030-01-01", "due_precision": "day", "reason": "Because."}
    for decision, names in decisions.items():
        path = f"/desk/expectations/{expectation.pk}/{decision}/"
        for name in names:
            for value in FORM_VALUES:
                desk.post(path, {**defaults, name: value})
    desk.assert_clean()


def test_history_restore_and_corrections_refuse_hostile_values(desk):
    event, expectation = _event(), _expectation()
    for value in FORM_VALUES:
        desk.post(f"/desk/events/{event.slug}/history/1/restore/", {"loaded_version": value})
        desk.post(f"/desk/expectations/{expectation.pk}/history/{10**18}/restore/", {"loaded_version": value})
        desk.post(f"/desk/events/{event.slug}/corrections/", {"text": value})
    desk.post(f"/desk/events/{event.slug}/history/{10**30}/restore/", {"loaded_version": "1"})
    desk.post(f"/desk/events/{event.slug}/corrections/", {"text": HUGE_FORM_VALUE})
    desk.assert_clean()


# --- Uploads: imports and media ------------------------------------------------------------------


def _upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


HOSTILE_FILES = [
    ("timeline.json", b"\xff\xfe\x00garbage", "application/json"),
    ("timeline.json", b"[" * 100_000, "application/json"),
    (
        "timeline.json",
        b'{"events": [{"start_date": {"year": "99999"}, "text": {"headline": "<script>alert(1)</script>"}}]}',
        "application/json",
    ),
    ("timeline.json", b'{"events": [{"start_date": {"year": "2022", "month": "2", "day": "30"}}]}', "application/json"),
    ("timeline.json", b'{"events": "not a list"}', "application/json"),
    ("timeline.json", b"1e999999", "application/json"),
    ("timeline.csv", b"Year,Month,Day,Headline\n0,0,0,\x00\n99999,13,32,<script>alert(1)</script>\n", "text/csv"),
    ("timeline.csv", b"Year,Headline\n2022,caf\xe9\n", "text/csv"),
    ("timeline.csv", b'Year,Headline\n2022,"unterminated\n', "text/csv"),
    ("timeline.csv", b"Year," + b"x" * 200_000 + b"\n2022,a\n", "text/csv"),
    ("timeline.csv", b"\x00" * 1000, "text/csv"),
    ("photo.exe", b"MZ\x90\x00", "application/x-msdownload"),
    ("<script>alert(1)</script>.json", b"{}", "text/html"),
    ("timeline.png", b"\x89PNG\r\n\x1a\n", "image/png"),
]


def test_the_import_page_refuses_hostile_files_with_a_message(desk, settings):
    settings.IMPORT_MAX_BYTES = 500_000
    for name, content, content_type in HOSTILE_FILES:
        desk.post("/desk/imports/", {"file": _upload(name, content, content_type), "new_story": "hostile-import"})
    desk.post(
        "/desk/imports/", {"file": _upload("big.csv", b"Year,Headline\n" + b"2022,a\n" * 100_000), "story": STORY}
    )
    for value in FORM_VALUES:
        desk.post("/desk/imports/", {"file": _upload("t.csv", b"Year,Headline\n2022,a\n"), "story": value})
        desk.post("/desk/imports/", {"file": _upload("t.csv", b"Year,Headline\n2022,a\n"), "new_story": value})
        desk.post("/desk/imports/", {"token": value})
    desk.post_raw("/desk/imports/", b"garbage", "multipart/form-data; boundary=xyz")
    desk.post_raw(
        "/desk/imports/",
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="\xff.csv"\r\n\r\nYear\r\n--xyz--\r\n',
        "multipart/form-data; boundary=xyz",
    )
    desk.assert_clean()


def test_media_rows_refuse_oversized_and_mislabelled_uploads(desk, settings):
    settings.MEDIA_MAX_IMAGE_BYTES = 50_000
    settings.MEDIA_MAX_DOCUMENT_BYTES = 50_000
    media = {"media-TOTAL_FORMS": "1", "media-INITIAL_FORMS": "0"}
    row = {"media-0-caption": "<script>alert(1)</script>", "media-0-credit": "AFP", "media-0-alt_text": "x"}
    files = [
        ("photo.jpg", b"\xff\xd8\xff" + b"\x00" * 100_000, "image/jpeg"),
        ("photo.jpg", b"not a jpeg at all", "image/jpeg"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png"),
        ("doc.pdf", b"%PDF-1.4\n" + b"x" * 100_000, "application/pdf"),
        ("doc.pdf", b"MZ\x90\x00", "application/pdf"),
        ("page.html", b"<script>alert(1)</script>", "text/html"),
        ("image.svg", b"<svg onload=alert(1)>", "image/svg+xml"),
        ("\x00.jpg", b"\xff\xd8\xff", "image/jpeg"),
        ("a" * 1000 + ".jpg", b"\xff\xd8\xff", "image/jpeg"),
    ]
    for kind in ("photo", "document", "link", "<script>", ""):
        for name, content, content_type in files:
            data = _development(
                **media, **row, **{"media-0-kind": kind, "media-0-file": _upload(name, content, content_type)}
            )
            desk.post("/desk/events/new/", data)
    for name in ("media-0-url", "media-0-token", "media-0-id", "media-0-kind", "move", "media-TOTAL_FORMS"):
        for value in FEW_FORM_VALUES:
            desk.post("/desk/events/new/", _development(**{**media, **row, name: value}))
    desk.assert_clean()


# --- The API -----------------------------------------------------------------------------------------

API_LISTS = {
    "/api/stories": ["after", "limit"],
    "/api/actors": ["after", "limit"],
    "/api/topics": ["after", "limit"],
    f"/api/stories/{STORY}/events": [*FILTERS, "limit"],
    f"/api/stories/{STORY}/expectations": ["after", "limit", "status"],
}


def test_every_api_parameter_refuses_hostile_values_with_a_json_400(probe):
    for path, names in API_LISTS.items():
        for name in names:
            for value in [*SAMPLE, *hostile.CURSORS] if name == "after" else SAMPLE:
                probe.get(path, {name: value})
        for value in INVALID_UTF8:
            for query in hostile.raw_queries(names, value):
                probe.get_raw(path, query)
        probe.get(path, [(name, "1") for name in names] + [(name, "~") for name in names])
    probe.assert_clean()


def test_api_errors_are_json_even_for_hostile_input(probe):
    for path, query in [
        (f"/api/stories/{STORY}/events", "from_date=2022-02-30"),
        (f"/api/stories/{STORY}/events", "after=%00"),
        (f"/api/stories/{STORY}/events", "q=a%00b"),
        ("/api/stories", f"limit={10**30}"),
        ("/api/stories", "after=AAAA===="),
        ("/api/<script>", ""),
    ]:
        response = probe.client.get(path, QUERY_STRING=query)
        assert 400 <= response.status_code < 500, (path, query, response.status_code)
        assert response["Content-Type"].startswith("application/json"), (path, query)
        assert "detail" in response.json()


@FAST
@given(
    name=st.sampled_from([*FILTERS, "limit"]),
    value=hostile.hostile_text,
    path=st.sampled_from(list(API_LISTS)),
)
def test_any_text_in_any_api_parameter_is_answered_without_a_server_error(probe, name, value, path):
    probe.get(path, {name: value})
    probe.assert_clean()
