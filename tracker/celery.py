"""The Celery app. Tasks live beside the code they serve (events/tasks.py).

A task queued during a request carries that request's id in its headers, so the worker's log lines
can be joined to the request that caused them.
"""

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from .request_id import current_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@before_task_publish.connect
def _send_request_id(headers: dict, **_: object) -> None:
    headers.setdefault("request_id", current_request_id.get())


@task_prerun.connect
def _receive_request_id(task, **_: object) -> None:
    sent_by = getattr(task.request, "request_id", None)
    request_id = sent_by if sent_by and sent_by != "-" else f"task-{task.request.id}"
    task.request._request_id_token = current_request_id.set(request_id)


@task_postrun.connect
def _forget_request_id(task, **_: object) -> None:
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
