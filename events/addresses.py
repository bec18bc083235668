"""The address of a page named by one slug (a story, an event, an actor, a topic, a place), without
a reverse() per call.

A list of event cards asks for some seven addresses per card, and reverse() walks the resolver's
tables each time, with the language prefix (30-100 µs, a fifth of a card's rendering). Here the
address is reversed once per view name, language, script prefix and URLconf, with a placeholder
slug, and the slug is put in its place. A slug that is not made of the characters the <slug:>
converter accepts is reversed as usual, so that it fails as reverse() would.
"""

import functools
import re

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

# What django.urls.converters.SlugConverter matches: these need no quoting in a path.
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_PLACEHOLDER = "0-slug-0"


@functools.lru_cache(maxsize=512)
def _halves(name: str, language: str | None, prefix: str, urlconf: str) -> tuple[str, str]:
    # The arguments are the cache's key: reverse() reads the same language and prefix itself.
    head, _, tail = reverse(name, urlconf=urlconf, args=[_PLACEHOLDER]).rpartition(_PLACEHOLDER)
    return head, tail


def slug_path(name: str, slug: str) -> str:
    """reverse(name, args=[slug]) for a URL pattern whose only argument is a slug."""
    if not _SLUG.fullmatch(slug):
        return reverse(name, args=[slug])
    head, tail = _halves(name, get_language(), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    return f"{head}{slug}{tail}"
