# syntax=docker/dockerfile:1
# One image for every process: web (gunicorn, the default command), the Celery worker and beat.
# docker-compose.yml runs it with DATABASE_URL / REDIS_URL pointing at PostgreSQL and Redis.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var \
    MAIL_DIR=/app/var/mail \
    WEB_CONCURRENCY=2

WORKDIR /app

# pg_dump and pg_restore for `manage.py backup` / `restore` (make backup) run inside the container.
# Debian's current client, not a pinned version: the security updates come with the base image's suite.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 tracker \
    && useradd --system --uid 10001 --gid tracker --home-dir /app --no-create-home --shell /usr/sbin/nologin tracker

# Dependencies first, in their own layer, so a code change does not reinstall them.
# Every wheel is pinned with its hash (requirements/base.txt is the lock file).
COPY requirements/base.txt requirements/base.txt
RUN pip install --require-hashes -r requirements/base.txt

COPY . .

# Static files are collected into the image (whitenoise serves them). The settings refuse to load
# without SECRET_KEY outside DEBUG, so the build passes a throwaway one; it never reaches the runtime.
# The translations are compiled here too (Babel, pure Python: no gettext in the image).
RUN SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --noinput \
    && find locale -name '*.po' -exec sh -c 'pybabel compile --statistics -i "$1" -o "${1%.po}.mo"' _ {} \; \
    && mkdir -p /app/var/celery /app/var/mail /app/var/media \
    && chown -R tracker:tracker /app/var

# Numeric, so a runtime (Kubernetes runAsNonRoot) can tell it is not root without reading /etc/passwd.
USER 10001:10001

EXPOSE 8000

# No curl in slim: ask /healthz with Python. The Host header and scheme come from SITE_URL, so the
# check passes ALLOWED_HOSTS and (behind a TLS proxy, BEHIND_PROXY=1) the HTTPS redirect.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.parse as p, urllib.request as r; s = p.urlsplit(os.environ.get('SITE_URL') or 'http://localhost'); r.urlopen(r.Request('http://127.0.0.1:8000/healthz', headers={'Host': s.netloc, 'X-Forwarded-Proto': s.scheme}), timeout=4)"]

# Gunicorn reads its number of workers from WEB_CONCURRENCY (2 above; override per deployment). Its
# control socket (gunicornc) is of no use in a container and would want a writable home.
CMD ["gunicorn", "tracker.wsgi:application", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/dev/shm", "--no-control-socket"]
