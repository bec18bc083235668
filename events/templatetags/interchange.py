"""Template tags for the data a story page offers: the embeddable timeline's <iframe> snippet."""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from ..models import Story

register = template.Library()


@register.simple_tag
def embed_snippet(story: Story) -> SafeString | str:
    """A copyable <iframe> for the story's embeddable timeline, shown only when some site may frame it
    (EMBED_ALLOWED_ORIGINS): without one, the snippet could only show a refusal."""
    if not settings.EMBED_ALLOWED_ORIGINS:
        return ""
    url = settings.SITE_URL + reverse("events:story_embed", args=[story.slug])
    title = _("Timeline: %(title)s") % {"title": story.title}
    snippet = format_html('<iframe src="{}" title="{}" width="100%" height="480" loading="lazy"></iframe>', url, title)
    return format_html(
        '<details class="embed-snippet"><summary>{}</summary><p><label for="embed-snippet-{}">{}</label></p>'
        '<textarea id="embed-snippet-{}" readonly rows="3" cols="60">{}</textarea></details>',
        _("Embed this timeline"),
        story.pk,
        _("Copy this into an article on one of the sites allowed to embed it:"),
        story.pk,
        escape(snippet),  # shown as the text to copy, entities and all
    )
