"""A pytest plugin: every log line of the whole run, formatted as the console writes it, goes to one
file, and the run fails at the end if any line holds something no log may hold.

Forbidden: an email address at the suite's domains (the factories' example.org, and .com/.net) or of
any Subscriber row saved during the run, a link token made by events/tokens.py, the SECRET_KEY, and
the password of any login tried or set during the run (and the factories' own). Tests that run a
worker in another process can add its output with `record_lines()`.
"""

import logging
import os
import re
import tempfile
from collections.abc import Iterable

import pytest

TEST_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)*example\.(?:org|com|net)\b", re.IGNORECASE)
# Strings this short would match words that happen to contain them.
SHORTEST_SECRET = 8


class _Forbidden:
    def __init__(self) -> None:
        self.values: set[str] = set()

    def add(self, value: object) -> None:
        if isinstance(value, str) and len(value) >= SHORTEST_SECRET:
            self.values.add(value)


_forbidden = _Forbidden()
_handler: logging.Handler | None = None
_path: str | None = None
_offending: list[str] = []


def record_lines(lines: Iterable[str]) -> None:
    """Lines logged elsewhere (a worker's output) to be checked with the rest of the run."""
    if _path is not None:
        with open(_path, "a", encoding="utf-8") as file:
            file.writelines(line.rstrip("\n") + "\n" for line in lines)


def offending_lines(lines: Iterable[str], forbidden: Iterable[str]) -> list[str]:
    """The lines holding a test address or any of the forbidden strings."""
    forbidden = [value for value in forbidden if value]
    return [line for line in lines if TEST_ADDRESS.search(line) or any(value in line for value in forbidden)]


def _console_handler() -> logging.Handler:
    """A handler writing to the run's file with the formatter and filters the console has."""
    handler = logging.FileHandler(_path, encoding="utf-8")
    console = next((h for h in logging.getLogger().handlers if h.name == "console"), None)
    if console is not None:
        handler.setFormatter(console.formatter)
        for log_filter in console.filters:
            handler.addFilter(log_filter)
    return handler


def _watch_what_tests_make() -> None:
    """Collect, as the run makes them, the values that must never be logged."""
    from django.conf import settings
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.core import signing
    from django.db.models.signals import post_save

    from events.models import Subscriber
    from tests.factories import UserFactory

    _forbidden.add(settings.SECRET_KEY)
    for key in getattr(settings, "SECRET_KEY_FALLBACKS", ()):
        _forbidden.add(key)
    password = UserFactory._meta.declarations["password"]
    make_password = password.transform

    def make_and_remember(raw_password):
        _forbidden.add(raw_password)
        return make_password(raw_password)

    password.transform = make_and_remember
    _forbidden.add(password.default)

    sign_object = signing.TimestampSigner.sign_object

    def sign_and_remember(self, *args, **kwargs):
        signed = sign_object(self, *args, **kwargs)
        if str(self.salt).startswith("subscriber-"):  # events/tokens.py's salts
            _forbidden.add(signed)
        return signed

    signing.TimestampSigner.sign_object = sign_and_remember

    authenticate = ModelBackend.authenticate

    def authenticate_and_remember(self, request, username=None, password=None, **kwargs):
        _forbidden.add(password)
        return authenticate(self, request, username=username, password=password, **kwargs)

    ModelBackend.authenticate = authenticate_and_remember

    set_password = AbstractBaseUser.set_password

    def set_and_remember(self, raw_password):
        _forbidden.add(raw_password)
        return set_password(self, raw_password)

    AbstractBaseUser.set_password = set_and_remember

    def remember_address(instance: Subscriber, **_: object) -> None:
        _forbidden.add(instance.email)

    post_save.connect(remember_address, sender=Subscriber, weak=False, dispatch_uid="log_capture")


def _attach() -> None:
    root = logging.getLogger()
    if _handler is not None and _handler not in root.handlers:
        root.addHandler(_handler)


def pytest_sessionstart(session: pytest.Session) -> None:
    global _handler, _path
    descriptor, _path = tempfile.mkstemp(prefix="tracker-test-logs-", suffix=".jsonl")
    os.close(descriptor)
    _handler = _console_handler()
    _attach()
    _watch_what_tests_make()


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A test that configures logging anew drops the root's handlers: attach it again.
    _attach()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _offending
    if _handler is None or _path is None:
        return
    logging.getLogger().removeHandler(_handler)
    _handler.close()
    with open(_path, encoding="utf-8") as file:
        _offending = offending_lines(file, _forbidden.values)
    if _offending:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        os.unlink(_path)


def pytest_terminal_summary(terminalreporter) -> None:
    if _offending:
        terminalreporter.write_sep(
            "=", "the run fails: log lines hold an address, a token, a password or the key", red=True
        )
        for line in _offending[:50]:
            terminalreporter.write_line(line.rstrip("\n"))
        terminalreporter.write_line(f"({len(_offending)} lines; the run's log is {_path})")
