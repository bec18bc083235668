"""The suite's settings: the project's own, with a throwaway key and the local services as defaults.

Tests run on PostgreSQL and Redis (DATABASE_URL / REDIS_URL, by default the local ones), never on the
embedded SQLite default: the constraints, locks and full-text search under test are PostgreSQL's.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tracker")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("MAIL_DIR", "/tmp/tracker-test-mail")

from tracker.settings import *  # noqa: F403

# Plain storage: tests need no collectstatic manifest.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files from the finders, as in development: the suite runs without collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Uploads of a test run go to a folder of their own, removed with the machine's temporary files.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="tracker-test-media-"))  # noqa: F405
# Every request reads the page cache's stamps: tests roll the database back without changing them.
PAGE_CACHE_STAMP_SECONDS = 0
