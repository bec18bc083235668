"""Editors write summaries in Markdown; readers get it as HTML that cannot carry script.

Markdown is rendered with the `Markdown` package, then sanitised with `nh3` (an allow-list of tags
and attributes), so a summary pasted from anywhere cannot inject script, styles or event handlers
past the site's CSP.
"""

import markdown
import nh3
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "strong",
    "sub",
    "sup",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "q": {"cite"}}
# No headings: a summary must not break the page's outline (nh3 keeps their text, drops the tag).
_MARKDOWN_EXTENSIONS = ["sane_lists", "smarty"]


def render_markdown(text: str) -> SafeString:
    """HTML for a Markdown summary, safe to put in a page."""
    if not text:
        return mark_safe("")
    html = markdown.markdown(text, extensions=_MARKDOWN_EXTENSIONS, output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # nh3 has just sanitised it


def plain_text(text: str, length: int = 160) -> str:
    """A summary as plain text, for meta descriptions and structured data."""
    rendered = strip_tags(render_markdown(text))
    return Truncator(" ".join(rendered.split())).chars(length)
