"""The settings, read from the environment in a fresh interpreter: what starts, what refuses to, what it picks.

Each test runs Python in a subprocess with `tracker.settings` (not the suite's settings) and an environment
built from scratch, so nothing the suite has already imported or set can leak into the answer.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Every variable the settings read that could change the answer; the tests set the ones they mean.
_SETTINGS_VARIABLES = (
    "SECRET_KEY",
    "DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "SITE_URL",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "BEHIND_PROXY",
    "VAR_DIR",
    "MAIL_DIR",
    "SMTP_URL",
    "MEDIA_STORAGE",
    "MEDIA_ROOT",
    "MEDIA_EMBED_PROVIDERS",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_CUSTOM_DOMAIN",
    "S3_REGION",
)

_PRINT_SETTINGS = """
import json
import django
from django.conf import settings

django.setup()
print(json.dumps({
    "database_engine": settings.DATABASES["default"]["ENGINE"],
    "database_name": str(settings.DATABASES["default"]["NAME"]),
    "broker_url": settings.CELERY_BROKER_URL,
    "broker_folder": getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).get("data_folder_in"),
    "result_backend": settings.CELERY_RESULT_BACKEND,
    "cache_backend": settings.CACHES["default"]["BACKEND"],
    "cache_location": str(settings.CACHES["default"]["LOCATION"]),
    "mail_backend": settings.MAILERS["default"]["BACKEND"],
    "mail_folder": settings.MAILERS["default"]["OPTIONS"].get("file_path"),
}))
"""


def run_python(*args: str, **variables: str) -> subprocess.CompletedProcess:
    """Run `python *args` from the project root with tracker.settings and only the given variables set."""
    env = {key: value for key, value in os.environ.items() if key not in _SETTINGS_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "tracker.settings"
    env.update(variables)
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def production_environment() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SITE_URL": "https://tracker.example.org",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ["REDIS_URL"],
    }


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    result = run_python("-c", "import django; django.setup()", VAR_DIR=str(tmp_path))

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_an_empty_secret_key_counts_as_none(tmp_path):
    result = run_python("-c", "import django; django.setup()", SECRET_KEY="", VAR_DIR=str(tmp_path))

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


_PRINT_SECRET_KEY = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"


def test_without_secret_key_settings_use_the_key_the_demo_keeps_in_var(tmp_path):
    (tmp_path / "secret-key").write_text("the-demo-s-own-key\n")

    result = run_python("-c", _PRINT_SECRET_KEY, VAR_DIR=str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "the-demo-s-own-key"


def test_secret_key_in_the_environment_wins_over_the_demo_s_file(tmp_path):
    (tmp_path / "secret-key").write_text("the-demo-s-own-key\n")

    result = run_python("-c", _PRINT_SECRET_KEY, SECRET_KEY="from-the-environment", VAR_DIR=str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "from-the-environment"


def test_an_empty_key_file_counts_as_no_key(tmp_path):
    (tmp_path / "secret-key").write_text("\n")

    result = run_python("-c", "import django; django.setup()", VAR_DIR=str(tmp_path))

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_settings_start_without_a_secret_key(tmp_path):
    result = run_python(
        "-c",
        "import django; django.setup(); from django.conf import settings; print(bool(settings.SECRET_KEY))",
        DEBUG="1",
        VAR_DIR=str(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_deploy_check_passes_with_production_settings():
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", **production_environment())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_with_a_weak_secret_key():
    environment = production_environment() | {"SECRET_KEY": "short"}

    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", **environment)

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_https_site_url_turns_on_the_https_only_settings():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS]))"
    )

    result = run_python("-c", code, **production_environment())

    assert result.returncode == 0, result.stderr
    redirect, session_secure, csrf_secure, hsts, hosts, origins = json.loads(result.stdout)
    assert (redirect, session_secure, csrf_secure) == (True, True, True)
    assert hsts >= 31_536_000
    assert "tracker.example.org" in hosts
    assert origins == ["https://tracker.example.org"]


def test_with_no_services_configured_settings_choose_the_embedded_default(tmp_path):
    result = run_python("-c", _PRINT_SETTINGS, SECRET_KEY="x", VAR_DIR=str(tmp_path))

    assert result.returncode == 0, result.stderr
    chosen = json.loads(result.stdout)
    assert chosen["database_engine"] == "django.db.backends.sqlite3"
    assert Path(chosen["database_name"]).parent == tmp_path
    assert chosen["broker_url"] == "filesystem://"
    assert Path(chosen["broker_folder"]).is_relative_to(tmp_path)
    assert chosen["result_backend"] is None
    assert chosen["cache_backend"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert Path(chosen["cache_location"]).is_relative_to(tmp_path)
    assert chosen["mail_backend"] == "events.mail.OneFilePerMessageBackend"
    assert chosen["mail_folder"]


def test_database_url_and_redis_url_switch_to_postgresql_and_redis(tmp_path):
    result = run_python(
        "-c",
        _PRINT_SETTINGS,
        SECRET_KEY="x",
        VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/tracker_elsewhere",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )

    assert result.returncode == 0, result.stderr
    chosen = json.loads(result.stdout)
    assert chosen["database_engine"] == "django.db.backends.postgresql"
    assert chosen["database_name"] == "tracker_elsewhere"
    assert chosen["broker_url"] == "redis://127.0.0.1:6379/3"
    assert chosen["result_backend"] == "redis://127.0.0.1:6379/3"
    assert chosen["cache_backend"] == "tracker.cache.ResilientRedisCache"
