"""Editors write summaries in Markdown; readers get it as HTML that cannot carry script.

Markdown is rendered with the `Markdown` package, then sanitised with `nh3` (an allow-list of tags
and attributes), so a summary pasted from anywhere cannot inject script, styles or event handlers
past the site's CSP. `render_markdown` is the one place that renders: an event stores its result in
`Event.summary_html` when it is saved, and readers' pages show that, never rendering per view.
"""

import html
import re

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
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"
# No headings: a summary must not break the page's outline (nh3 keeps their text, drops the tag).
_MARKDOWN_EXTENSIONS = ["sane_lists", "smarty"]

_URL_ATTRIBUTES = {"href", "src", "cite"}
# What a browser skips when it reads a URL's scheme (ASCII whitespace and control characters).
_SKIPPED_IN_URLS = re.compile(r"[\x00-\x20\x7f]")


def _allowed_url(tag: str, attribute: str, value: str) -> str | None:
    """Keep a URL only if it is relative or its scheme is one of URL_SCHEMES.

    nh3 checks the scheme of an `href` only when the URL parses, passing "java\\0script:alert(1)" as
    relative, and does not check `<q cite>` at all. Here anything with a colon before its first "/",
    "?" or "#" has a scheme, and it must be an allowed one.
    """
    if attribute not in _URL_ATTRIBUTES:
        return value
    scheme, colon, _ = _SKIPPED_IN_URLS.sub("", value).partition(":")
    if colon and not any(c in scheme for c in "/?#") and scheme.lower() not in URL_SCHEMES:
        return None
    return value


def render_markdown(text: str) -> SafeString:
    """HTML for a Markdown summary, safe to put in a page."""
    if not text:
        return mark_safe("")
    rendered = markdown.markdown(text, extensions=_MARKDOWN_EXTENSIONS, output_format="html")
    return sanitise_html(rendered)


# Built once: nh3.clean builds its sanitiser anew on every call, two thirds of the work on a short text
# (an import sanitises every row's).
_SANITISER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_allowed_url,
    url_schemes=URL_SCHEMES,
    link_rel=LINK_REL,
)


def sanitise_html(html_text: str) -> SafeString:
    """HTML from elsewhere (an imported timeline's text) cut down to what a summary may hold: the
    same allow-list as rendered Markdown, so it cannot carry script, styles or event handlers either."""
    return mark_safe(_SANITISER.clean(html_text))  # noqa: S308 (nh3 has just sanitised it)


def html_to_plain(sanitised_html: str, length: int = 160) -> str:
    """HTML already sanitised by render_markdown (a stored summary) as plain text, for meta
    descriptions and structured data: tags stripped, entities decoded (the template escapes it)."""
    text = html.unescape(strip_tags(sanitised_html))
    return Truncator(" ".join(text.split())).chars(length)


def plain_text(text: str, length: int = 160) -> str:
    """A Markdown text as plain text. It renders the Markdown: for an event, use its summary_html."""
    return html_to_plain(render_markdown(text), length)
