"""manage.py's entry point: configuration and connection problems get one clear line, not a traceback."""

import sys

from django.core.exceptions import ImproperlyConfigured


def _fail(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(1)


def run_management_command(argv: list[str]) -> None:
    try:
        from django.core.management import execute_from_command_line
        from django.db.utils import OperationalError

        try:
            execute_from_command_line(argv)
        except OperationalError as exc:
            from django.db import connection

            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            _fail(f"cannot reach the database ({connection.vendor}): {first_line}")
    except ImproperlyConfigured as exc:
        _fail(str(exc))
