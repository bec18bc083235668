"""Settings, all from the environment (12-factor).

With nothing set, the tracker runs on its embedded default: SQLite under var/, Celery on kombu's
filesystem transport, a file cache, and mail written one file per message to var/mail/.
DATABASE_URL switches to PostgreSQL, REDIS_URL to a Redis broker and cache. The README's table lists
every variable.
"""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
_secret_key_file = VAR_DIR / "secret-key"
if not SECRET_KEY and _secret_key_file.is_file():
    # The key `make demo` keeps in var/, so manage.py in the demo's checkout works with nothing set.
    try:
        SECRET_KEY = _secret_key_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(f"SECRET_KEY is not set and {_secret_key_file} cannot be read: {exc}") from exc
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"SECRET_KEY is not set and {_secret_key_file} holds none: production settings refuse to start "
            "without one (set SECRET_KEY, or DEBUG=1 for local development)."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG"  # noqa: S105 (DEBUG only, refused above otherwise)

# The public address of the site. Emails sent by tasks build their links from it, and its scheme
# decides the HTTPS-only settings below, so a plain-http demo and an https deployment both work.
# What is deployed (a commit, a tag): cached pages of another release are never served.
RELEASE = env.str("RELEASE", default="")

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
SITE_IS_HTTPS = _site.scheme == "https"

# An empty value counts as unset: a blank ALLOWED_HOSTS would otherwise refuse every request.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[]) or [_site.hostname or "127.0.0.1", "localhost", "127.0.0.1"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[]) or [f"{_site.scheme}://{_site.netloc}"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "django_filters",
    "simple_history",
    "axes",
    # The API's docs: Swagger UI from ninja's own static files and templates, not from a CDN.
    "ninja",
    "imagekit",
    "events",
]

MIDDLEWARE = [
    # First, so that its one line per request times everything, page-cache answers and 304s included.
    "tracker.access_log.AccessLogMiddleware",
    "tracker.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The language, from the URL's prefix (or a redirect to the reader's): before the page cache, whose
    # keys hold it and which resolves URLs, prefixed only in the active language.
    "tracker.middleware.LanguageMiddleware",
    # Readers' pages and the live notice's 304 from the cache, before sessions: see its docstring.
    "tracker.middleware.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as axes requires: it turns a lockout flagged during the view into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "events.context_processors.desk",
                "tracker.languages.context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The pages' queries are index lookups of a few milliseconds; PostgreSQL's JIT, which it
        # starts for plans it believes large, added 50-300 ms to them at a million events, and
        # starting parallel workers for a LIMIT 20 walk of an index costs 5-8 ms more than the walk.
        _options = DATABASES["default"].setdefault("OPTIONS", {})
        _options["options"] = f"{_options.get('options', '')} -c jit=off -c max_parallel_workers_per_gather=0".strip()
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "tracker.sqlite3",
            # WAL lets the web process read while the worker writes; IMMEDIATE avoids
            # "database is locked" when two processes upgrade a read to a write.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, broker -------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # A Redis away answers as a cache miss, not an error (tracker.cache); a Redis that stops answering
    # holds a request up a second at most.
    CACHES = {
        "default": {
            "BACKEND": "tracker.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    # A file cache, not locmem: several web processes must see the same entries.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_RESULT_BACKEND = REDIS_URL or None
# A task taken by a worker that died (SIGKILL, a lost machine) goes back to the queue after this many
# seconds unacknowledged. It must outlast the longest task and countdown (alerts wait ALERT_BATCH_SECONDS),
# or a task still running is handed to a second worker. Workers look for such tasks every tenth of it.
_visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _visibility_timeout,
        "unacked_restore_interval": min(60, max(1, _visibility_timeout // 10)),
        "unacked_restore_throttle": 1,
        # A publish must not wait forever on a Redis that went away without closing the connection.
        "socket_timeout": 10,
        "socket_connect_timeout": 5,
    }
else:
    _broker_dir = VAR_DIR / "celery" / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Workers and beat log through LOGGING below (JSON lines with the request id), like the web.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "flag-overdue-expectations": {
        "task": "events.tasks.flag_overdue_expectations",
        "schedule": env.float("OVERDUE_CHECK_SECONDS", default=60.0),
    },
    # Each run sends whatever is due, so a run that waited past the next one is dropped ("expires").
    "send-digests": {
        "task": "events.tasks.send_digests",
        "schedule": env.float("DIGEST_CHECK_SECONDS", default=300.0),
        "options": {"expires": env.float("DIGEST_CHECK_SECONDS", default=300.0)},
    },
    # Publications queue alerts themselves; this pass catches a queued run that was lost.
    "send-alerts": {"task": "events.tasks.send_alerts", "schedule": 60.0, "options": {"expires": 60.0}},
    "nudge-quiet-stories": {
        "task": "events.tasks.nudge_quiet_stories",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "delete-abandoned-uploads": {
        "task": "events.tasks.delete_abandoned_uploads",
        "schedule": 6 * 3600.0,
        "options": {"expires": 6 * 3600.0},
    },
}

# --- Mail -----------------------------------------------------------------------------------------
MAIL_DIR = Path(env.str("MAIL_DIR", default=str(VAR_DIR / "mail")))
if env.str("SMTP_URL", default=""):
    _smtp = env.email_url("SMTP_URL")
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _smtp["EMAIL_HOST"],
                "port": _smtp["EMAIL_PORT"],
                "username": _smtp["EMAIL_HOST_USER"],
                "password": _smtp["EMAIL_HOST_PASSWORD"],
                "use_tls": _smtp.get("EMAIL_USE_TLS", False),
                "use_ssl": _smtp.get("EMAIL_USE_SSL", False),
                "timeout": 20,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "events.mail.OneFilePerMessageBackend",
            "OPTIONS": {"file_path": str(MAIL_DIR)},
        }
    }
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Story Tracker <tracker@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who hears about overdue expectations and quiet stories, besides the desk.
EDITORS_EMAIL = env.list("EDITORS_EMAIL", default=["desk@localhost"])

# --- Time and language ----------------------------------------------------------------------------
# English (British) is the source and lives at the unprefixed URLs; the others under /fr/, /de/, ...
# (tracker/urls.py, tracker.middleware.LanguageMiddleware). Names are each language's own.
LANGUAGE_CODE = "en-gb"
LANGUAGES = [
    ("en-gb", "English"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("uk", "Українська"),
    ("ru", "Русский"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "tracker_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = SITE_IS_HTTPS
# Stored in UTC; shown in the place's zone when an event has one, else in this one.
TIME_ZONE = env.str("SITE_TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- Media: uploaded images and documents ----------------------------------------------------------
# Stored through Django's storage API: a folder under var/ by default (served by the tracker itself,
# /media/...), or an S3-compatible store with MEDIA_STORAGE=s3 (credentials from the usual AWS_*
# variables, read by boto3), whose files readers fetch from S3_CUSTOM_DOMAIN or the endpoint.
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
_media_storage: dict = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
MEDIA_ORIGINS: list[str] = []  # where readers' browsers fetch media from, besides this site
if MEDIA_STORAGE == "s3":
    _s3 = {
        "bucket_name": env.str("S3_BUCKET", default=""),
        "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("S3_REGION", default="") or None,
        "custom_domain": env.str("S3_CUSTOM_DOMAIN", default="") or None,
        # Public, never-changing names: no signed URLs, and browsers may keep a file for a year.
        "querystring_auth": False,
        "file_overwrite": False,
        "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
    }
    if not _s3["bucket_name"]:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs S3_BUCKET (and S3_ENDPOINT_URL for a store other than AWS).")
    _media_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3}
    if _s3["custom_domain"]:
        MEDIA_ORIGINS = [f"https://{_s3['custom_domain']}"]
    elif _s3["endpoint_url"]:
        _endpoint = urlsplit(_s3["endpoint_url"])
        MEDIA_ORIGINS = [f"{_endpoint.scheme}://{_endpoint.netloc}"]
    else:
        MEDIA_ORIGINS = [f"https://{_s3['bucket_name']}.s3.amazonaws.com"]
elif MEDIA_STORAGE != "local":
    raise ImproperlyConfigured(f"MEDIA_STORAGE is local or s3, not {MEDIA_STORAGE!r}.")
MEDIA_MAX_IMAGE_BYTES = env.int("MEDIA_MAX_IMAGE_MB", default=15) * 1024 * 1024
MEDIA_MAX_DOCUMENT_BYTES = env.int("MEDIA_MAX_DOCUMENT_MB", default=25) * 1024 * 1024
MEDIA_MAX_IMAGE_PIXELS = env.int("MEDIA_MAX_IMAGE_MEGAPIXELS", default=50) * 1_000_000
# Video providers whose players may be loaded in a page once a reader clicks (events.media.links).
MEDIA_EMBED_PROVIDERS = [
    name.strip() for name in env.list("MEDIA_EMBED_PROVIDERS", default=["youtube", "vimeo"]) if name.strip()
]
# Each provider's player, the one address its frames come from (CSP frame-src below).
_PLAYER_ORIGINS = {"youtube": "https://www.youtube-nocookie.com", "vimeo": "https://player.vimeo.com"}
if _unknown := set(MEDIA_EMBED_PROVIDERS) - _PLAYER_ORIGINS.keys():
    raise ImproperlyConfigured(f"MEDIA_EMBED_PROVIDERS takes youtube and vimeo, not {', '.join(sorted(_unknown))}.")
# Thumbnails are made when an image is saved, and their addresses computed without asking the storage.
IMAGEKIT_DEFAULT_CACHEFILE_STRATEGY = "imagekit.cachefiles.strategies.Optimistic"
IMAGEKIT_CACHEFILE_DIR = "thumbnails"
IMAGEKIT_SPEC_CACHEFILE_NAMER = "imagekit.cachefiles.namers.source_name_as_path"

STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Auth -----------------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk:home"
LOGOUT_REDIRECT_URL = "events:story_list"
# Members of this group may use the desk (/desk/); others who log in get 403 there.
EDITORS_GROUP = "editors"
AUTHENTICATION_BACKENDS = [
    # Refuses every login, right password or not, while its account or its address is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed logins (ours and the admin's) are counted per account and per client address, separately:
# either reaching the limit locks it out for the cool-off (in minutes); a success forgets the account's.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_TIME", default=15.0))
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME.total_seconds() < 1:
    raise ImproperlyConfigured("AXES_FAILURE_LIMIT and AXES_COOLOFF_TIME (minutes) must be positive.")
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# No startup line: every manage.py command would print it on stderr, the commands' error channel.
AXES_VERBOSE = False
AXES_HANDLER = "tracker.accounts.AccessAttemptHandler"
AXES_LOCKOUT_CALLABLE = "tracker.accounts.lockout_response"
# Behind a proxy the client's address is the one the proxy appended to X-Forwarded-For; else the peer's.
AXES_CLIENT_IP_CALLABLE = (
    "tracker.accounts.client_address_behind_proxy"
    if env.bool("BEHIND_PROXY", default=False)
    else "tracker.accounts.client_address"
)

# --- Security -------------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SITE_IS_HTTPS)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SITE_IS_HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if SITE_IS_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SITE_IS_HTTPS
SECURE_HSTS_PRELOAD = SITE_IS_HTTPS
if env.bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
# Said here rather than left to Django's defaults, so that the audit reads them (tests/test_security_headers.py).
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Lax: a reader following a link from an article arrives logged in; no form of another site posts with them.
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
# Forms carry the token in the page (hx-headers on the desk); no script reads the cookie.
CSRF_COOKIE_HTTPONLY = True
# The site's page for a form sent without its token; JSON under /api/.
CSRF_FAILURE_VIEW = "tracker.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *MEDIA_ORIGINS],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
    # Only the players of the allowed video providers, and only once a reader asks for one.
    "frame-src": sorted(_PLAYER_ORIGINS[name] for name in MEDIA_EMBED_PROVIDERS) or [CSP.NONE],
}
# Sites allowed to frame the embeddable timeline (/stories/<slug>/embed/), comma-separated origins
# such as https://news.example.org. That page alone then names them in its CSP frame-ancestors and
# drops X-Frame-Options; empty (the default), no site may frame it, as no site may frame any page.
EMBED_ALLOWED_ORIGINS = [origin.strip() for origin in env.list("EMBED_ALLOWED_ORIGINS", default=[]) if origin.strip()]
for _origin in EMBED_ALLOWED_ORIGINS:
    _scheme, _, _host = _origin.partition("://")
    # Checked character by character: the value goes into a CSP header verbatim.
    if _scheme not in ("http", "https") or not _host or not all(c.isalnum() or c in ".-:" for c in _host):
        raise ImproperlyConfigured(
            f"EMBED_ALLOWED_ORIGINS takes origins like https://news.example.org, not {_origin!r}."
        )

# --- Logging: JSON lines with the request id ------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "tracker.middleware.RequestIdFilter"}},
    "formatters": {
        "json": {
            # JSON, with addresses, link tokens and the SECRET_KEY redacted from every line.
            "()": "tracker.log_format.RedactingJsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601 in UTC, whatever the site's zone
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},
        # tracker.tasks writes the one line per task run; Celery's own says it again, but for failures.
        "celery.app.trace": {"level": "WARNING"},
        # Failures and lockouts only, not two lines per successful login.
        "axes": {"level": "WARNING"},
    },
}

# --- The tracker's own knobs ----------------------------------------------------------------------
TIMELINE_PAGE_SIZE = env.int("TIMELINE_PAGE_SIZE", default=50)
# A developing story with no development for this many days is shown to editors as gone quiet.
QUIET_STORY_DAYS = env.int("QUIET_STORY_DAYS", default=7)
# How often an open timeline asks whether anything new was published (slower in a hidden tab).
LIVE_NOTICE_POLL_SECONDS = env.int("LIVE_NOTICE_POLL_SECONDS", default=10)
# Readers' pages are served from the cache while nothing they show has changed (events/page_cache.py);
# each web process trusts what it last read of "what changed" for this many seconds (0: never).
PAGE_CACHE_STAMP_SECONDS = env.float("PAGE_CACHE_STAMP_SECONDS", default=1.0)
# The largest timeline file the desk's import page takes (bytes); `manage.py import_timeline` has no limit.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
# Immediate alerts: a burst of publications within this window goes out as one email.
ALERT_BATCH_SECONDS = env.int("ALERT_BATCH_SECONDS", default=60)
# How many share runs a digest run is split into, for as many worker processes (events.tasks.send_digests).
DIGEST_PARALLEL = env.int("DIGEST_PARALLEL", default=1)
# Sign-ups to subscriptions allowed per client address and, separately, per email address, in
# django-ratelimit's notation ("5/h": five an hour; "10/15m"); more answer 429 and send nothing.
SUBSCRIBE_RATE = env.str("SUBSCRIBE_RATE", default="5/h")
if not re.fullmatch(r"[1-9]\d*/(?:[1-9]\d*)?[smhd]", SUBSCRIBE_RATE):
    raise ImproperlyConfigured(f"SUBSCRIBE_RATE must read like 5/h or 10/15m, not {SUBSCRIBE_RATE!r}.")
