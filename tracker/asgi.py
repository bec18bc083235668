import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
application = get_asgi_application()

from tracker.warmup import prepare_process  # noqa: E402 - needs the settings configured above

prepare_process()
