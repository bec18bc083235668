from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Stories and events"

    def ready(self) -> None:
        # The page cache's signal receivers: every process that writes must change the stamps.
        from . import page_cache  # noqa: F401
