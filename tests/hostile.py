"""Hostile input for tests/test_hostile_input.py: the payloads, and what an answer to one must not be.

An answer is acceptable when it is below 500 and, if it is HTML, does not carry back any markup it was
sent: an escaped copy (`&lt;script&gt;`) is fine, the raw one is not. JSON is not checked for
reflection: it is served as application/json with nosniff, and a browser does not run it.
"""

from urllib.parse import quote_from_bytes

from django.http import HttpResponse
from hypothesis import strategies as st

# Markup a page must never carry back as markup, in the contexts a value lands in (text, an attribute
# in double or single quotes, a URL).
XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "javascript:alert(1)//<b onmouseover=alert(1)>",
    "{{7*7}}{% debug %}<iframe srcdoc='<script>alert(1)</script>'>",
]
# What must not be found in an HTML answer after sending the XSS payloads: their tags, raw.
MARKUP = ["<script>alert", "<img src=x", "<svg onload", "<b onmouseover", "<iframe srcdoc"]

SQL = [
    "' OR '1'='1",
    "'; DROP TABLE events_event; --",
    '" OR 1=1 --',
    "1 UNION SELECT NULL, version() --",
    "%' AND pg_sleep(0) --",
    "\\",
    "%",
    "_%_",
    "'",
]
# Words PostgreSQL's text search parsers give a meaning to, as a reader might type them.
SEARCH_SYNTAX = ["&|!():*", '"unterminated', "a <-> b", "a:*", "!!", "-", "or", "(((", "a & | b", "'':*"]
OVERLONG = ["a" * 10_000, "ж" * 100_000]
HUGE_FORM_VALUE = "x" * 1_000_000
NUL = ["\x00", "a\x00b", "%00"]
CONTROL = ["\r\nSet-Cookie: evil=1", "\u202e\u200b\ufeff", "\U0001f4a5" * 50, "\x7f\x1b[31m"]
DATES = [
    "0000-01-01",
    "0000-00-00",
    "99999-01-01",
    "2022-02-30",
    "2022-13-01",
    "-0001-01-01",
    "0001-01-01",
    "9999-12-31",
    "2022-02-07T25:61:00",
    "2022-02-30T10:00:00",
    "2022-02-07T10:00:00+99:00",
    "1e309",
    "now",
    "",
]
NUMBERS = [str(10**30), "-1", "0", "-0", "1.5", "NaN", "Infinity", "0x10", "1e6", " 7 ", "٣"]
CURSORS = [
    "AAAA====",
    "eyJpZCI6IDF9",
    "!!!not-base64",
    "~",
    "~~",
    "~~~",
    "x~1",
    f"2022-02-08T12:00:00.000000Z~{10**30}",
    "2022-02-08T12:00:00.000000Z~-1",
    "2022-02-08T12:00:00.000000Z~0",
    "2022-02-30T12:00:00.000000Z~1",
    "0001-01-01T00:00:00.000000Z~1",
    "9999-12-31T23:59:59.999999Z~1",
    "NaN~2022-02-08T12:00:00.000000Z~1",
    "inf~2022-02-08T12:00:00.000000Z~1",
    "1e999~2022-02-08T12:00:00.000000Z~1",
    f"{10**30}~1",
    "0000-00-00~1",
    "2022-02-08~1",
    "\x00~1",
]

TEXT = XSS + SQL + SEARCH_SYNTAX + OVERLONG + NUL + CONTROL
EVERYTHING = TEXT + DATES + NUMBERS + CURSORS
# One or two of each kind, for the many parameters each sent every payload would make too slow a run.
SAMPLE = [
    XSS[0],
    XSS[1],
    SQL[1],
    SEARCH_SYNTAX[0],
    "a" * 10_000,
    "a\x00b",
    CONTROL[0],
    "2022-02-30",
    "99999-01-01",
    "0000-01-01",
    str(10**30),
    "-1",
    "NaN",
    "~",
    f"2022-02-08T12:00:00.000000Z~{10**30}",
    "NaN~2022-02-08T12:00:00.000000Z~1",
    "AAAA====",
]

# Raw bytes that are not UTF-8, as a query string or a form body carries them: percent-encoded (how a
# browser sends them) and bare (what a hand-made request may send).
INVALID_UTF8 = [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"caf\xe9", b"\x00\xff"]


def raw_pairs(name: str, value: bytes) -> list[str]:
    """A query string or a form body giving `value` to `name`, encoded both ways; each is a WSGI
    string (its bytes as latin-1), which is how a server hands over what it received."""
    return raw_queries([name], value)


def raw_queries(names: list[str], value: bytes) -> list[str]:
    """As raw_pairs, with every one of `names` given `value` in the same query."""
    quoted, bare = quote_from_bytes(value), value.decode("latin-1")
    return ["&".join(f"{name}={quoted}" for name in names), "&".join(f"{name}={bare}" for name in names)]


# For Hypothesis: any text, weighted towards what breaks parsers (NULs, surrogate-free unicode, markup).
hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(EVERYTHING),
    st.builds("".join, st.lists(st.sampled_from(["<", ">", "'", '"', "&", "\x00", "~", "%", ":", "*", "-", "9"]))),
)


def problems(response: HttpResponse, sent: object = None) -> list[str]:
    """What is wrong with the answer to a hostile request: a server error, or markup carried back."""
    found = []
    if response.status_code >= 500:
        found.append(f"status {response.status_code}")
    content_type = response.get("Content-Type", "")
    if "html" in content_type and not getattr(response, "streaming", False):
        body = response.content.decode("utf-8", "replace")
        found += [f"reflected {marker!r}" for marker in MARKUP if marker in body]
    return found
