# The README's two commands: `make demo` and `make test`. Everything else is here for them or for you.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The suite runs on PostgreSQL and Redis; by default the local ones on their standard ports.
# (Only for the targets that test: the demo runs on the embedded default unless you set them.)
test check-services: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tracker
test check-services: export REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test lint lock install install-dev clean check-services screenshots bench backup restore

# A venv on a Python >= 3.12, rebuilt if it was made with an older one.
$(VENV)/.python-ok:
	@python=$$(scripts/find-python) || exit 1; \
	if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then rm -rf $(VENV); fi; \
	[ -x $(PY) ] || { echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV); }; \
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
	@touch $@

# Installs exactly the pinned, hashed versions; re-runs only when a lock file changes.
$(VENV)/.installed-base: requirements/base.txt $(VENV)/.python-ok
	@echo "Installing the pinned dependencies (requirements/base.txt)..."
	@$(PY) -m pip install --quiet --require-hashes -r requirements/base.txt 2>&1 | grep -v "is ignored" || true
	@$(PY) -c "import django, celery, psycopg" && touch $@

$(VENV)/.installed-dev: requirements/dev.txt $(VENV)/.installed-base
	@echo "Installing the pinned development dependencies (requirements/dev.txt)..."
	@$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt 2>&1 | grep -v "is ignored" || true
	@$(PY) -c "import pytest, playwright" && touch $@

# The translations (locale/<language>/LC_MESSAGES/*.po) compiled into the .mo files Django reads, by
# Babel (pure Python, so no gettext is needed to run the site); rebuilt when a catalog changes.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)
locale/%.mo: locale/%.po $(VENV)/.installed-base
	@$(VENV)/bin/pybabel compile --statistics -i $< -o $@ 2>&1 | grep -v "^compiling" || true
	@test -s $@

install: $(VENV)/.installed-base $(MO_FILES)
install-dev: $(VENV)/.installed-dev $(MO_FILES)

# Brings the catalogs up to date with the code after a string changed (needs gettext's xgettext): new
# strings arrive untranslated in each language's .po, to be translated before they land
# (tests/test_languages.py fails on an untranslated, fuzzy or missing entry).
.PHONY: messages
messages: install
	PYTHON=$(PY) scripts/update-messages

# Migrates, loads the demo story, and runs web, worker and beat in the foreground until Ctrl-C.
demo: install
	@PORT=$(PORT) PYTHON=$(PY) scripts/demo

check-services: install-dev
	@$(PY) scripts/check-services

# Ruff (its security rules, S, included: pyproject.toml), the formatting, migrations in step with the models,
# and pip-audit over the lock files (AUDIT_STRICT=1: packages the vulnerability service cannot answer fail too).
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	SECRET_KEY=lint $(PY) manage.py makemigrations --check --dry-run
	$(PY) scripts/audit-dependencies

# The whole suite, browser tests included, on PostgreSQL and Redis.
test: check-services lint
	$(VENV)/bin/pytest --create-db

lock: $(VENV)/.python-ok
	$(PY) -m pip install --quiet uv
	cd requirements && ../$(VENV)/bin/uv pip compile --python-version 3.12 --generate-hashes -q base.in -o base.txt
	cd requirements && ../$(VENV)/bin/uv pip compile --python-version 3.12 --generate-hashes -q dev.in -o dev.txt

# The performance figures (issue 16) against gunicorn on PostgreSQL and Redis: one table, printed and kept
# in var/bench/latest.md. QUICK=1: small sizes only. Not tests: nothing here fails on a timing.
bench: check-services
	$(PY) -m benchmarks $(if $(QUICK),--quick)

# The loopback load test (issue 17): USERS readers (200) and an editor publishing, for DURATION (10m),
# against gunicorn, a worker and beat on PostgreSQL (database tracker_load, kept) and Redis db 6. Fails on
# any server error or a p99 of 300 ms or more; the table is kept in var/loadtest/latest.md. Not in `make test`.
.PHONY: loadtest
loadtest: install-dev
	$(PY) scripts/loadtest --duration $(or $(DURATION),10m) --users $(or $(USERS),200)

# The database and the uploaded media in one archive, var/backups/tracker-<UTC time>.tar.gz (OUTPUT=path
# elsewhere), for whatever DATABASE_URL names, the embedded SQLite default without it.
backup: install
	@$(PY) manage.py backup $(if $(OUTPUT),--output "$(OUTPUT)")

# Puts an archive of `make backup` back: FILE=... required; FORCE=1 replaces a database that holds data.
ifneq ($(filter restore,$(MAKECMDGOALS)),)
ifeq ($(FILE),)
$(error make restore needs FILE=<archive>, e.g. make restore FILE=var/backups/tracker-20260207-180000Z.tar.gz (FORCE=1 to replace existing data))
endif
endif
restore: install
	@$(PY) manage.py restore "$(FILE)" $(if $(FORCE),--force)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache

# Retakes the README's screenshots of the demo timeline and the desk (docs/img/).
screenshots: install-dev
	UPDATE_SCREENSHOTS=1 $(VENV)/bin/pytest tests/browser -k "fits_the_screen or raises_an_expectation or french_and_ukrainian"
