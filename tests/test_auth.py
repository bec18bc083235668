"""Logging in and out, and the throttle on failed logins (django-axes, per account and per address)."""

import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.factories import UserFactory
from tracker.accounts import client_address, client_address_behind_proxy

PASSWORD = "correct-horse-battery"  # the factory's
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
LOCKED_MESSAGE = "Too many failed logins"


@pytest.fixture
def editor(db):
    user = UserFactory(username="editor")
    user.groups.add(Group.objects.get_or_create(name=settings.EDITORS_GROUP)[0])
    return user


@pytest.fixture
def colleague(db):
    return UserFactory(username="colleague")


def log_in(client: Client, username: str, password: str, address: str = "203.0.113.1", url: str = LOGIN, **extra):
    data = {"username": username, "password": password, **extra.pop("data", {})}
    return client.post(url, data, REMOTE_ADDR=address, **extra)


def fail(times: int, *, usernames: list[str], addresses: list[str], url: str = LOGIN) -> list[int]:
    """`times` wrong passwords, cycling through the usernames and addresses; the statuses answered."""
    return [
        log_in(Client(), usernames[i % len(usernames)], "wrong", addresses[i % len(addresses)], url).status_code
        for i in range(times)
    ]


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- Logging in -----------------------------------------------------------------------------------


def test_the_login_page_labels_its_fields_and_tells_password_managers_what_they_are(client, db):
    response = client.get(LOGIN)

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<label for="id_username">Username</label>', html)
    assert re.search(r'<label for="id_password">Password</label>', html)
    assert re.search(r'<input[^>]*name="username"[^>]*autocomplete="username"', html)
    assert re.search(r'<input[^>]*type="password"[^>]*autocomplete="current-password"', html)
    assert '<button class="button" type="submit">Log in</button>' in html


def test_the_login_page_keeps_the_page_it_was_sent_from(client, db):
    response = client.get(LOGIN, {"next": "/desk/events/new/"})

    assert '<input type="hidden" name="next" value="/desk/events/new/">' in response.content.decode()


def test_an_anonymous_visitor_to_the_desk_reaches_this_login_page_with_next(client, db):
    response = client.get("/desk/events/new/")

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/desk/events/new/"


def test_a_good_login_goes_to_the_desk_page_it_was_sent_from(client, editor):
    response = log_in(client, "editor", PASSWORD, data={"next": "/desk/events/new/"})

    assert response.status_code == 302
    assert response["Location"] == "/desk/events/new/"
    assert is_logged_in(client)


def test_a_good_login_without_next_goes_to_the_desk(client, editor):
    response = log_in(client, "editor", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("desk:home")


def test_a_login_with_next_on_another_site_goes_to_the_desk_instead(client, editor):
    response = log_in(client, "editor", PASSWORD, data={"next": "https://attacker.example/desk/"})

    assert response["Location"] == reverse("desk:home")


def test_a_wrong_password_is_refused_with_the_message_and_the_username_kept(client, editor):
    response = log_in(client, "editor", "wrong", data={"next": "/desk/events/new/"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "Please enter a correct username and password." in html
    assert re.search(r'<input[^>]*name="username"[^>]*value="editor"', html)
    assert '<input type="hidden" name="next" value="/desk/events/new/">' in html
    assert not is_logged_in(client)


def test_a_login_with_a_field_left_empty_says_which_in_that_field(client, editor):
    response = log_in(client, "editor", "")

    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'aria-describedby="id_password_error"', html)
    assert '<p class="field__error" id="id_password_error">This field is required.</p>' in html


# --- Logging out ----------------------------------------------------------------------------------


def test_logging_out_by_get_is_refused_and_changes_nothing(client, editor):
    client.force_login(editor)

    response = client.get("/accounts/logout/")

    assert response.status_code == 405
    assert is_logged_in(client)


def test_logging_out_by_post_logs_out_and_goes_to_the_stories(client, editor):
    client.force_login(editor)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == reverse("events:story_list")
    assert not is_logged_in(client)


def test_a_logged_in_editor_sees_the_desk_link_and_a_log_out_button(client, editor):
    client.force_login(editor)

    html = client.get(LOGIN).content.decode()

    assert f'href="{reverse("desk:home")}">Desk</a>' in html
    assert re.search(r'<form[^>]*method="post" action="/accounts/logout/">', html)


# --- The throttle ---------------------------------------------------------------------------------


def test_failures_on_one_account_from_many_addresses_lock_that_account_even_with_the_right_password(editor):
    limit = settings.AXES_FAILURE_LIMIT
    addresses = [f"198.51.100.{i}" for i in range(1, limit + 1)]

    statuses = fail(limit, usernames=["editor"], addresses=addresses)

    assert statuses == [400] * (limit - 1) + [429]
    client = Client()
    response = log_in(client, "editor", PASSWORD, "192.0.2.200")
    assert response.status_code == 429
    assert LOCKED_MESSAGE in response.content.decode()
    assert not is_logged_in(client)


def test_an_account_locked_elsewhere_does_not_stop_another_account_from_another_address(editor, colleague):
    fail(settings.AXES_FAILURE_LIMIT, usernames=["editor"], addresses=["198.51.100.1", "198.51.100.2"])
    client = Client()

    response = log_in(client, "colleague", PASSWORD, "192.0.2.200")

    assert response.status_code == 302
    assert is_logged_in(client)


def test_failures_from_one_address_on_many_accounts_lock_that_address_for_every_account(editor, colleague):
    limit = settings.AXES_FAILURE_LIMIT
    usernames = [f"guess{i}" for i in range(limit)]

    statuses = fail(limit, usernames=usernames, addresses=["198.51.100.7"])

    assert statuses == [400] * (limit - 1) + [429]
    for username in ("editor", "colleague", "nobody"):
        client = Client()
        response = log_in(client, username, PASSWORD, "198.51.100.7")
        assert response.status_code == 429, username
        assert not is_logged_in(client)
    assert log_in(Client(), "editor", PASSWORD, "198.51.100.8").status_code == 302


def test_the_lockout_page_says_when_to_try_again(editor):
    fail(settings.AXES_FAILURE_LIMIT, usernames=["editor"], addresses=["198.51.100.1"])

    response = log_in(Client(), "editor", PASSWORD, "198.51.100.1")

    assert response.status_code == 429
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    assert response["Retry-After"] == str(minutes * 60)
    html = response.content.decode()
    assert re.search(rf"Try again in {minutes} minutes, after \d\d:\d\d [A-Z+0-9-]+\.", html)
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html  # the site's own page


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"},
        {"HTTP_HX_REQUEST": "true"},
        {"HTTP_X_FORWARDED_FOR": "not-an-address"},
        {"data": {"next": "https://attacker.example/"}},
    ],
    ids=["form", "xhr", "htmx", "forged-forwarded-for", "foreign-next"],
)
def test_a_locked_out_login_is_answered_429_never_an_error(editor, extra):
    fail(settings.AXES_FAILURE_LIMIT, usernames=["editor"], addresses=["198.51.100.1"])

    response = log_in(Client(), "editor", "wrong", "198.51.100.1", **extra)

    assert response.status_code == 429
    assert LOCKED_MESSAGE in response.content.decode()


def test_the_admin_login_is_locked_out_too(editor):
    limit = settings.AXES_FAILURE_LIMIT

    statuses = fail(limit, usernames=["editor"], addresses=["198.51.100.9"], url=ADMIN_LOGIN)

    assert statuses == [200] * (limit - 1) + [429]  # the admin's own form answers 200
    client = Client()
    response = log_in(client, "editor", PASSWORD, "192.0.2.200", url=ADMIN_LOGIN)
    assert response.status_code == 429
    assert not is_logged_in(client)


def test_failures_on_the_admin_and_on_our_page_add_up(editor):
    limit = settings.AXES_FAILURE_LIMIT
    fail(limit - 1, usernames=["editor"], addresses=["198.51.100.1"], url=ADMIN_LOGIN)

    assert log_in(Client(), "editor", "wrong", "198.51.100.2").status_code == 429


def test_a_successful_login_before_the_limit_resets_the_count(editor):
    limit = settings.AXES_FAILURE_LIMIT
    fail(limit - 1, usernames=["editor"], addresses=["198.51.100.1"])

    assert log_in(Client(), "editor", PASSWORD, "198.51.100.1").status_code == 302

    assert fail(limit - 1, usernames=["editor"], addresses=["198.51.100.1"]) == [400] * (limit - 1)
    assert log_in(Client(), "editor", PASSWORD, "198.51.100.1").status_code == 302


def test_a_successful_login_does_not_forget_its_address_s_guesses_at_other_accounts(editor, colleague):
    limit = settings.AXES_FAILURE_LIMIT
    fail(limit - 1, usernames=["colleague"], addresses=["198.51.100.1"])

    assert log_in(Client(), "editor", PASSWORD, "198.51.100.1").status_code == 302

    assert AccessAttempt.objects.filter(username="colleague").exists()
    assert log_in(Client(), "colleague", "wrong", "198.51.100.2").status_code == 429


# --- The client's address -------------------------------------------------------------------------


def test_without_a_proxy_a_forged_forwarded_for_does_not_dodge_an_address_lock(editor):
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit):
        log_in(Client(), f"guess{i}", "wrong", "198.51.100.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")

    assert log_in(Client(), "editor", PASSWORD, "198.51.100.7", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_behind_a_proxy_each_client_is_counted_by_the_address_the_proxy_appended(editor, settings):
    settings.AXES_CLIENT_IP_CALLABLE = "tracker.accounts.client_address_behind_proxy"
    limit = settings.AXES_FAILURE_LIMIT
    proxy = "10.0.0.2"
    for i in range(limit):
        log_in(Client(), f"guess{i}", "wrong", proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 198.51.100.7")

    locked = log_in(Client(), "editor", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="192.0.2.99, 198.51.100.7")
    other_client = log_in(Client(), "editor", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.8")

    assert locked.status_code == 429
    assert other_client.status_code == 302


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"REMOTE_ADDR": "198.51.100.7"}, "198.51.100.7"),
        ({"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "192.0.2.1"}, "198.51.100.7"),
        ({"REMOTE_ADDR": "2001:db8::1"}, "2001:db8::1"),
        ({"REMOTE_ADDR": ""}, None),
        ({"REMOTE_ADDR": "not-an-address"}, None),
    ],
)
def test_without_a_proxy_the_client_is_the_peer(meta, expected):
    assert client_address(RequestFactory().get("/", **meta)) == expected


@pytest.mark.parametrize(
    ("forwarded_for", "expected"),
    [
        ("192.0.2.1, 198.51.100.7", "198.51.100.7"),
        ("198.51.100.7", "198.51.100.7"),
        (" 198.51.100.7 ", "198.51.100.7"),
        ("", "10.0.0.2"),
        ("192.0.2.1, garbage", None),
    ],
)
def test_behind_a_proxy_the_client_is_the_last_forwarded_hop(forwarded_for, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for)

    assert client_address_behind_proxy(request) == expected
