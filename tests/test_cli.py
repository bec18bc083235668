"""manage.py on bad configuration: one clear `error:` line on stderr and a non-zero exit, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
UNREACHABLE_DATABASE = "postgres://postgres@127.0.0.1:1/nope"


def manage(*args: str, unset: tuple[str, ...] = (), **variables: str) -> subprocess.CompletedProcess:
    """Run `manage.py *args` with tracker.settings, DEBUG unset, and the variables given."""
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", *unset}}
    env["DJANGO_SETTINGS_MODULE"] = "tracker.settings"
    env.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_migrate_against_an_unreachable_database_says_so_in_one_line():
    result = manage("migrate", SECRET_KEY="x", DATABASE_URL=UNREACHABLE_DATABASE)

    line = assert_one_error_line(result)
    assert "cannot reach the database" in line
    assert "port 1" in line


def test_migrate_against_a_missing_database_says_so_in_one_line():
    result = manage("migrate", SECRET_KEY="x", DATABASE_URL="postgres://postgres@127.0.0.1:5432/tracker_no_such_db")

    line = assert_one_error_line(result)
    assert "tracker_no_such_db" in line


@pytest.mark.parametrize("command", ["check", "migrate", "showmigrations"])
def test_a_production_start_without_a_secret_key_is_one_error_line_naming_it(command, tmp_path):
    result = manage(command, unset=("SECRET_KEY",), VAR_DIR=str(tmp_path))

    line = assert_one_error_line(result)
    assert "SECRET_KEY" in line


def test_a_command_that_needs_no_database_still_runs_when_the_database_is_unreachable():
    result = manage("check", SECRET_KEY="x", DATABASE_URL=UNREACHABLE_DATABASE)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


# What the demo's checkout has while `make demo` runs: no variables, its key and SQLite in var/.
DEMO_UNSET = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MAIL_DIR")


def test_in_the_demo_s_checkout_manage_py_runs_with_the_key_in_var_and_nothing_set(tmp_path):
    (tmp_path / "secret-key").write_text("a-key-the-demo-made-" + "x" * 40 + "\n")

    result = manage("check", unset=DEMO_UNSET, VAR_DIR=str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_without_the_demo_s_key_file_manage_py_refuses_in_one_line_naming_secret_key(tmp_path):
    result = manage("check", unset=DEMO_UNSET, VAR_DIR=str(tmp_path))

    line = assert_one_error_line(result)
    assert "SECRET_KEY" in line
    assert str(tmp_path / "secret-key") in line
