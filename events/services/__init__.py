"""Domain actions: the only code that changes a story's state.

Each service is atomic, checks its rule before writing (the database backs the rule with a
constraint), leaves a history record through django-simple-history, and queues follow-up work with
transaction.on_commit so a rolled-back change never sends anything.

Split by capability: base.py (refusals, the optimistic lock, slugs), events.py, expectations.py,
history.py. Import from here: `from events import services; services.publish_event(...)`.
"""

from .base import ApplicationError, StaleVersionError, lock_for_edit, unique_slug
from .events import log_development, publish_event, revise_development, update_event
from .expectations import (
    announce_overdue,
    cancel_expectation,
    extend_expectation,
    flag_overdue_expectations,
    fulfil_expectation,
    mark_reviewed,
    raise_expectation,
    review_expectation,
    update_expectation,
)
from .history import add_correction, restore_version

__all__ = [
    "ApplicationError",
    "StaleVersionError",
    "add_correction",
    "announce_overdue",
    "cancel_expectation",
    "extend_expectation",
    "flag_overdue_expectations",
    "fulfil_expectation",
    "lock_for_edit",
    "log_development",
    "mark_reviewed",
    "publish_event",
    "raise_expectation",
    "restore_version",
    "review_expectation",
    "revise_development",
    "unique_slug",
    "update_event",
    "update_expectation",
]
