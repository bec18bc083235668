"""Inside Django, with a bench database's settings: what a page costs in queries, and their plans.

Run by the benchmark as `python -m benchmarks.probe` with the database's environment and a JSON request on
stdin; prints one JSON answer. Pages are fetched with Django's test client under CaptureQueriesContext,
every cache replaced by an empty local one so the first request renders afresh and the second shows what
a cache hit costs. The plans are EXPLAIN ANALYZE of exactly the SQL those requests ran.
"""

import json
import os
import re
import sys

ELEMENT = re.compile(r"<[a-zA-Z][^>]*\sdata-event-id=")
SEQ_SCANS = re.compile(r"Seq Scan on (events_event|events_participation)\b")
EDITOR = "bench-editor"
EDITOR_PASSWORD = "bench-editor-password-not-secret"


def _fresh_caches():
    from django.conf import settings
    from django.test import override_settings

    caches = {
        alias: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"bench-probe-{alias}"}
        for alias in settings.CACHES
    }
    return override_settings(CACHES=caches)


def _client(user=None):
    from django.test import Client

    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _get(client, path: str, headers: dict[str, str]):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    body = response.content if not response.streaming else b"".join(response.streaming_content)
    return response, body, [query["sql"] for query in captured.captured_queries]


def editor():
    """The editor the desk's figure logs in as (made once per database), in the editors group."""
    from django.conf import settings
    from django.contrib.auth.models import Group, User

    user, made = User.objects.get_or_create(username=EDITOR)
    if made or not user.check_password(EDITOR_PASSWORD):
        user.set_password(EDITOR_PASSWORD)
        user.save()
    user.groups.add(Group.objects.get_or_create(name=settings.EDITORS_GROUP)[0])
    return user


def page(request: dict) -> dict:
    """A page fetched twice: size and elements, queries when rendered afresh and when served again."""
    user = editor() if request.get("as_editor") else None
    client = _client(user)
    headers = request.get("headers", {})
    response, body, fresh = _get(client, request["path"], headers)
    _, _, again = _get(client, request["path"], headers)
    text = body.decode("utf-8", "replace")
    return {
        "status": response.status_code,
        "bytes": len(body),
        "elements": len(ELEMENT.findall(text)),
        "queries": len(fresh),
        "queries_again": len(again),
        "sql": fresh,
    }


def explain(request: dict) -> dict:
    """EXPLAIN ANALYZE of every SELECT a fresh request runs, with the sequential scans it would make."""
    from django.db import connection

    user = editor() if request.get("as_editor") else None
    response, _, queries = _get(_client(user), request["path"], request.get("headers", {}))
    plans = []
    for sql in queries:
        # A UNION of limited lists (the "what's next" panel, the filter choices) opens with "(SELECT".
        if not sql.lstrip("( \n").upper().startswith(("SELECT", "WITH")):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        time = next((line.split(":", 1)[1].strip() for line in plan if line.startswith("Execution Time")), "")
        plans.append(
            {"sql": sql, "plan": plan, "execution": time, "seq_scans": sorted(set(SEQ_SCANS.findall("\n".join(plan))))}
        )
    return {"status": response.status_code, "plans": plans}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()
    request = json.load(sys.stdin)
    with _fresh_caches():
        from django.core.cache import caches

        from events import page_cache

        handlers = {"page": page, "explain": explain, "editor": lambda r: {"id": editor().pk}}
        answers = []
        for item in request:
            # Each item starts from nothing cached or remembered: its first request renders afresh.
            for cache in caches.all():
                cache.clear()
            page_cache.forget_remembered()
            answers.append(handlers[item["do"]](item))
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
