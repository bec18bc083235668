"""The Celery app. Tasks live beside the code they serve (events/tasks.py).

A task queued during a request carries that request's id in its headers, and a task queued by a task
carries the id its parent ran under, so the worker's log lines can be joined to the request that
caused them. Each task run ends with one line: task name and id, its state and how long it ran.
"""

import logging
import os
import time

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from .request_id import current_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger("tracker.tasks")

# A run's line is as loud as its outcome; anything else (REVOKED, IGNORED, REJECTED) is worth a look.
LEVEL_OF_STATE = {"SUCCESS": logging.INFO, "RETRY": logging.WARNING, "FAILURE": logging.ERROR}


@before_task_publish.connect
def _send_request_id(headers: dict, **_: object) -> None:
    headers.setdefault("request_id", current_request_id.get())


@task_prerun.connect
def _receive_request_id(task, **_: object) -> None:
    # From the message's headers on a worker. An eager run (CELERY_TASK_ALWAYS_EAGER) publishes no
    # message: it runs inside the request or task that called it, whose id is still current.
    sent_by = getattr(task.request, "request_id", None) or current_request_id.get()
    request_id = sent_by if sent_by != "-" else f"task-{task.request.id}"
    task.request._request_id_token = current_request_id.set(request_id)
    task.request._started = time.perf_counter()


@task_postrun.connect
def _log_run_and_forget_request_id(task, task_id: str, state: str | None = None, **_: object) -> None:
    started = getattr(task.request, "_started", None)
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    logger.log(
        LEVEL_OF_STATE.get(state, logging.WARNING),
        "%s %s %s",
        task.name,
        task_id,
        state,
        extra={"task": task.name, "task_id": task_id, "state": state, "duration_ms": duration_ms},
    )
    token = getattr(task.request, "_request_id_token", None)
    if token is not None:
        current_request_id.reset(token)


def _ensure_filesystem_broker_folders() -> None:
    """kombu's filesystem transport (the embedded default) expects its folders to exist."""
    from django.conf import settings

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)


@app.on_after_configure.connect
def _prepare_broker(sender, **_: object) -> None:
    if str(sender.conf.broker_url).startswith("filesystem://"):
        _ensure_filesystem_broker_folders()
