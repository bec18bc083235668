"""Summaries as readers get them: Markdown rendered, then sanitised against script of every disguise.

The payloads are drawn from OWASP's XSS Filter Evasion Cheat Sheet (and a few Markdown-only tricks).
Each output is parsed with html.parser, as a browser would read it, and checked for what could run
script, load a document or restyle the page, rather than for substrings.
"""

import re
import unicodedata
from html.parser import HTMLParser

import pytest

from events.text import ALLOWED_TAGS, html_to_plain, plain_text, render_markdown

# Elements that run script, load another document or resource, restyle the page or take input.
FORBIDDEN_ELEMENTS = {
    "applet", "audio", "base", "bgsound", "body", "button", "details", "embed", "form", "frame",
    "frameset", "head", "html", "iframe", "image", "img", "input", "isindex", "link", "math", "meta",
    "noscript", "object", "script", "select", "source", "style", "svg", "table", "template",
    "textarea", "video", "xml",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "cite", "action", "formaction", "data", "background", "poster", "xlink:href"}
SAFE_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"


class _Elements(HTMLParser):
    """Every start tag with its attributes (values unescaped, as a browser reads them), and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


def url_scheme(url: str) -> str | None:
    """The scheme of a URL once what browsers skip is gone (None: relative).

    Stricter than a browser: every whitespace, control, format and separator character is removed, not
    only leading ones and tabs and newlines, and a colon before the first "/", "?" or "#" counts as a
    scheme even when it is not a valid one ("java\\ufffdscript:" is reported as such, not as relative).
    """
    bare = "".join(c for c in url if not c.isspace() and unicodedata.category(c)[0] not in "CZ").lower()
    match = re.match(r"([^/?#]*):", bare)
    return match.group(1) if match else None


def assert_harmless(html: str) -> _Elements:
    parsed = parse(html)
    for tag, attrs in parsed.elements:
        assert tag not in FORBIDDEN_ELEMENTS, f"<{tag}> in {html!r}"
        assert tag in ALLOWED_TAGS, f"<{tag}> is not allow-listed, in {html!r}"
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler {name} in {html!r}"
            assert name != "style", f"style attribute in {html!r}"
            assert name in {"href", "title", "cite", "rel"}, f"attribute {name} in {html!r}"
            if name in URL_ATTRIBUTES:
                scheme = url_scheme(value or "")
                assert scheme is None or scheme in SAFE_SCHEMES, f"{name}={value!r} in {html!r}"
        if tag == "a":
            assert dict(attrs).get("rel") == LINK_REL, f"<a> without rel={LINK_REL!r} in {html!r}"
    return parsed


# (payload, text a reader should still see, or None where nothing meaningful is left)
XSS_PAYLOADS = [
    pytest.param("<script>alert('XSS')</script>", None, id="script"),
    pytest.param('<SCRIPT SRC="https://xss.example/xss.js"></SCRIPT>', None, id="script-src"),
    pytest.param('<SCRIPT/XSS SRC="https://xss.example/xss.js"></SCRIPT>', None, id="script-slash-attribute"),
    pytest.param('<<SCRIPT>alert("XSS");//<</SCRIPT>', None, id="script-extra-open-bracket"),
    pytest.param("<img src=x onerror=alert(1)>", None, id="img-onerror"),
    pytest.param("<IMG SRC=\"javascript:alert('XSS');\">", None, id="img-javascript"),
    pytest.param("<IMG SRC=JaVaScRiPt:alert('XSS')>", None, id="img-mixed-case"),
    pytest.param("<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>", None, id="img-grave-accents"),
    pytest.param('<IMG """><SCRIPT>alert("XSS")</SCRIPT>">', None, id="img-malformed-quotes"),
    pytest.param("<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">", None, id="img-encoded-tab"),
    pytest.param(
        '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105'
        "&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039"
        '&#0000088&#0000083&#0000083&#0000039&#0000041">',
        None,
        id="img-onerror-padded-decimal-entities",
    ),
    pytest.param("<svg onload=alert(1)>", None, id="svg-onload"),
    pytest.param("<svg/onload=alert('XSS')>", None, id="svg-slash-onload"),
    pytest.param("<BODY ONLOAD=alert('XSS')>", None, id="body-onload"),
    pytest.param("<iframe src=\"javascript:alert('XSS');\"></iframe>", None, id="iframe-javascript"),
    pytest.param('<IFRAME SRC=# onmouseover="alert(document.cookie)"></IFRAME>', None, id="iframe-onmouseover"),
    pytest.param("<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>", None, id="frameset"),
    pytest.param('<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">', None, id="meta-refresh"),
    pytest.param(
        '<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K">',
        None,
        id="meta-refresh-data",
    ),
    pytest.param("<STYLE>@import'https://xss.example/xss.css';</STYLE>", None, id="style-import"),
    pytest.param(
        '<STYLE>BODY{-moz-binding:url("https://xss.example/xssmoz.xml#xss")}</STYLE>', None, id="style-binding"
    ),
    pytest.param(
        "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">Backdrop</DIV>",
        "Backdrop",
        id="style-attribute-url",
    ),
    pytest.param("<p style=\"width: expression(alert('XSS'));\">Expression</p>", "Expression", id="style-expression"),
    pytest.param('<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">', None, id="link-stylesheet"),
    pytest.param(
        '<OBJECT TYPE="text/x-scriptlet" DATA="https://xss.example/scriptlet.html"></OBJECT>', None, id="object"
    ),
    pytest.param(
        '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" type="image/svg+xml">',
        None,
        id="embed-data-svg",
    ),
    pytest.param("<BASE HREF=\"javascript:alert('XSS');//\">", None, id="base-href"),
    pytest.param('<form action="javascript:alert(1)"><button>Send</button></form>', "Send", id="form-action"),
    pytest.param(
        '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">Formula</maction></math>',
        None,
        id="math-xlink",
    ),
    pytest.param("<isindex type=image src=1 onerror=alert(1)>", None, id="isindex"),
    pytest.param("<input onfocus=alert(1) autofocus>", None, id="input-autofocus"),
    pytest.param("<details open ontoggle=alert(1)>Details</details>", "Details", id="details-ontoggle"),
    pytest.param("<TABLE BACKGROUND=\"javascript:alert('XSS')\"><tr><td>Cell</td></tr></TABLE>", "Cell", id="table"),
    pytest.param("<BGSOUND SRC=\"javascript:alert('XSS');\">", None, id="bgsound"),
    pytest.param("<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->", None, id="conditional-comment"),
    pytest.param(
        '<XML ID="xss"><I><B><IMG SRC="javas<!-- -->cript:alert(\'XSS\')"></B></I></XML>', None, id="xml-island"
    ),
    pytest.param('<noscript><p title="</noscript><img src=x onerror=alert(1)>">', None, id="noscript-mutation"),
    pytest.param("<xss onafterscriptexecute=alert(1)>Custom</xss>", "Custom", id="custom-element-handler"),
    pytest.param('<abbr title="NATO" onmouseover="alert(1)">NATO</abbr>', "NATO", id="abbr-onmouseover"),
    pytest.param('<a href="https://example.org/" onclick="alert(1)">Site</a>', "Site", id="a-onclick"),
    pytest.param("<a href=\"javascript:alert('XSS')\">Plain</a>", "Plain", id="a-javascript"),
    pytest.param('<a href="JaVaScRiPt:alert(1)">Mixed</a>', "Mixed", id="a-mixed-case"),
    pytest.param("<a href=\"jav\tascript:alert('XSS');\">Tab</a>", "Tab", id="a-embedded-tab"),
    pytest.param("<a href=\"jav&#x09;ascript:alert('XSS');\">Tab</a>", "Tab", id="a-encoded-tab"),
    pytest.param("<a href=\"jav&#x0A;ascript:alert('XSS');\">Newline</a>", "Newline", id="a-encoded-newline"),
    pytest.param("<a href=\"jav&#x0D;ascript:alert('XSS');\">Return</a>", "Return", id="a-encoded-return"),
    pytest.param('<a href="java&Tab;script:alert(1)">Named</a>', "Named", id="a-named-tab-entity"),
    pytest.param("<a href=\"java\0script:alert('XSS')\">Null</a>", "Null", id="a-null-byte"),
    pytest.param('<a href="\x01javascript:alert(1)">Control</a>', "Control", id="a-leading-control"),
    pytest.param("<a href=\" &#14;  javascript:alert('XSS');\">Spaces</a>", "Spaces", id="a-leading-spaces"),
    pytest.param('<a href="java\u2028script:alert(1)">Separator</a>', "Separator", id="a-line-separator"),
    pytest.param('<a href="\ufeffjavascript:alert(1)">BOM</a>', "BOM", id="a-byte-order-mark"),
    pytest.param('<a href="javascript&colon;alert(1)">Colon</a>', "Colon", id="a-named-colon-entity"),
    pytest.param(
        '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;'
        '&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;">Decimal</a>',
        "Decimal",
        id="a-decimal-entities",
    ),
    pytest.param(
        '<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74'
        '&#x28&#x27&#x58&#x53&#x53&#x27&#x29">Hex</a>',
        "Hex",
        id="a-hex-entities-without-semicolons",
    ),
    pytest.param("<a href=\"vbscript:msgbox('XSS')\">VB</a>", "VB", id="a-vbscript"),
    pytest.param(
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K">Data</a>', "Data", id="a-data"
    ),
    pytest.param('<q cite="javascript:alert(1)">Quoted</q>', "Quoted", id="q-cite-javascript"),
    pytest.param("[Link](javascript:alert(1))", "Link", id="md-link-javascript"),
    pytest.param("[Link](JAVASCRIPT:alert(1))", "Link", id="md-link-upper-case"),
    pytest.param("[Link](javascript&#58;alert(1))", "Link", id="md-link-entity-colon"),
    pytest.param("[Link](<javascript:alert(1)>)", "Link", id="md-link-angle-brackets"),
    pytest.param("[Link](java\0script:alert(1))", "Link", id="md-link-null-byte"),
    pytest.param("[Link](vbscript:msgbox(1))", "Link", id="md-link-vbscript"),
    pytest.param(
        "[Link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", "Link", id="md-link-data-base64"
    ),
    pytest.param('[Link](https://example.org "a\\" onmouseover=\\"alert(1)")', "Link", id="md-link-title-break"),
    pytest.param("[Reference][1]\n\n[1]: javascript:alert(1)", "Reference", id="md-reference-link"),
    pytest.param("![Picture](javascript:alert(1))", None, id="md-image-javascript"),
    pytest.param("<javascript:alert(1)>", None, id="md-autolink-javascript"),
    pytest.param("<img src=x onerror=alert(1)//", None, id="unclosed-tag"),
    pytest.param('"><script>alert(1)</script>', None, id="attribute-break-double-quote"),
    pytest.param("'><img src=x onerror=alert(1)>", None, id="attribute-break-single-quote"),
]


@pytest.mark.parametrize(("payload", "kept_text"), XSS_PAYLOADS)
def test_known_xss_payloads_come_out_harmless(payload, kept_text):
    parsed = assert_harmless(render_markdown(payload))
    if kept_text is not None:
        assert kept_text in "".join(parsed.text)


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<p><img src="x"></p>',
        '<p onclick="alert(1)">x</p>',
        '<p style="color: red">x</p>',
        '<a href="javascript:alert(1)" rel="noopener noreferrer nofollow">x</a>',
        '<a href="java&#x09;script:alert(1)" rel="noopener noreferrer nofollow">x</a>',
        '<a href="java\ufffdscript:alert(1)" rel="noopener noreferrer nofollow">x</a>',
        '<q cite="vbscript:x">x</q>',
        '<a href="https://example.org/">no rel</a>',
    ],
)
def test_the_check_itself_catches_what_it_looks_for(html):
    with pytest.raises(AssertionError):
        assert_harmless(html)


def test_ordinary_markdown_renders_as_expected():
    text = (
        "Macron *met* Putin for **five hours**.\n\n"
        "- security guarantees\n- the Minsk agreements\n\n"
        "1. first\n2. second\n\n"
        "> No deal was struck.\n\n"
        'See [the Élysée\'s account](https://www.elysee.fr/ "Élysée") and `code`.'
    )
    assert render_markdown(text) == (
        "<p>Macron <em>met</em> Putin for <strong>five hours</strong>.</p>\n"
        "<ul>\n<li>security guarantees</li>\n<li>the Minsk agreements</li>\n</ul>\n"
        "<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n"
        "<blockquote>\n<p>No deal was struck.</p>\n</blockquote>\n"
        '<p>See <a href="https://www.elysee.fr/" title="Élysée" rel="noopener noreferrer nofollow">'
        "the Élysée’s account</a> and <code>code</code>.</p>"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/a:b",
        "http://example.org/",
        "mailto:desk@example.org",
        "/events/talks/",
        "#sources",
        "?q=a:b",
    ],
)
def test_safe_and_relative_links_are_kept_with_rel(url):
    parsed = assert_harmless(render_markdown(f"[Link]({url})"))
    assert parsed.elements == [("p", []), ("a", [("href", url), ("rel", LINK_REL)])]


def test_headings_lose_their_tag_but_keep_their_text():
    assert render_markdown("# Breaking\n\nText.") == "Breaking\n<p>Text.</p>"


def test_a_rendered_summary_is_marked_safe_and_an_empty_one_is_empty():
    assert hasattr(render_markdown("*x*"), "__html__")
    assert render_markdown("") == ""


def test_plain_text_has_no_tags_and_decodes_entities_once():
    html = render_markdown("Grain **&** gas: <script>x</script> the *“deal”*   is off &lt;for now&gt;.")
    assert html_to_plain(html) == "Grain & gas: the “deal” is off <for now>."
    assert not hasattr(html_to_plain(html), "__html__")  # so a template escapes it


def test_plain_text_is_truncated_to_its_length():
    assert html_to_plain("<p>" + "word " * 100 + "</p>", 20) == "word word word word…"
    assert plain_text("*" + "word " * 99 + "word*", 20) == "word word word word…"
