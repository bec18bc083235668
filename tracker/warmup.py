"""Making a web process ready before its first reader, so that no reader pays for it later.

Two costs a fresh process would otherwise put on requests:
- the first render of each template (compiling it into the cached loader), the first request of each
  language (loading its catalogs) and the first resolve (importing every view);
- Python's garbage collector walking everything the process holds. A full collection comes every few
  requests and visits every object tracked since the start: the modules, models, templates and
  catalogs, some 170,000 objects, about 80 ms each time (the slow requests of the page's p99, issue 16).
  `gc.freeze()` after loading them moves them out of the collector's sight for good (they live as
  long as the process anyway): it then visits only what requests made since. Under `gunicorn
  --preload` it also keeps the forked workers from copying the pages those objects live on.
"""

import datetime
import gc
from pathlib import Path

from django.conf import settings
from django.template.loader import get_template
from django.urls import get_resolver, reverse
from django.utils import translation

from events import dates
from tracker.languages import address_in

TEMPLATE_SUFFIXES = (".html", ".txt", ".xml")


def project_templates() -> list[str]:
    """Every template of the project's folders, by the name views load it with."""
    names = []
    for folder in (Path(d) for backend in settings.TEMPLATES for d in backend.get("DIRS", [])):
        names += [str(p.relative_to(folder)) for p in sorted(folder.rglob("*")) if p.suffix in TEMPLATE_SUFFIXES]
    return names


def load_everything() -> None:
    """Import the views, compile the templates, load each language's catalogs and URL tables."""
    get_resolver().url_patterns  # noqa: B018 - imports every URLconf and view module
    for name in project_templates():
        get_template(name)
    current = translation.get_language()
    for code, _name in settings.LANGUAGES:
        translation.activate(code)
        translation.gettext("")  # the catalog loads on first use
        # The URL resolver's tables are made per language on first use (200 ms): every page links to
        # itself in each language (the switcher).
        reverse("events:story_detail", args=["x"])
        address_in("/stories/x/", code)
        # Babel reads a locale's date formats from disk on first use (40 ms).
        dates.format_weekday(datetime.date.today())
        dates.format_local(datetime.datetime.now(datetime.UTC))
    if current:
        translation.activate(current)
    else:
        translation.deactivate()


def prepare_process() -> None:
    """Load what every request needs, then take it out of the garbage collector's rounds."""
    load_everything()
    gc.collect()
    gc.freeze()
