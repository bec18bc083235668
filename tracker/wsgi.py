import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
application = get_wsgi_application()

# Each worker loads what requests need before its first reader, then freezes it (see the module).
from tracker.warmup import prepare_process  # noqa: E402 - needs the settings configured above

prepare_process()
