"""A web process loads what requests need before its first reader and freezes it (tracker.warmup)."""

import gc
import importlib
import sys

from django.template import engines

from tracker import warmup


def test_every_project_template_is_listed_by_its_name():
    names = warmup.project_templates()
    assert "events/story_detail.html" in names
    assert "includes/event_card.html" in names
    assert "emails/digest.txt" in names
    assert all(not name.startswith("/") for name in names)


def test_loading_compiles_every_template_into_the_cached_loader():
    loader = engines["django"].engine.template_loaders[0]
    loader.reset()
    warmup.load_everything()
    cached = loader.get_template_cache
    missing = [name for name in warmup.project_templates() if name not in cached]
    assert not missing


def test_preparing_freezes_what_was_loaded():
    try:
        warmup.prepare_process()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_the_wsgi_application_is_prepared():
    gc.unfreeze()
    try:
        sys.modules.pop("tracker.wsgi", None)
        importlib.import_module("tracker.wsgi")
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
