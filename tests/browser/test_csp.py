"""The strict CSP in Chromium: every public page as a reader, every desk page as an editor, and htmx
swaps on both, with no CSP violation reported by the page and none in the console.

The pages are those of the page walk (tests/test_template_hygiene.py), filled from the demo story;
what is not HTML (feeds, JSON, files) is left out, as the browser would download it, not show it.
"""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.test_template_hygiene import Demo, is_html, site_routes, urls_for, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Registered before any of the page's scripts, in every document the page opens.
WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation(location.pathname + location.search + ": " + e.effectiveDirective + " blocked "
    + (e.blockedURI || "inline") + (e.sample ? " (" + e.sample + ")" : ""));
});
"""


@pytest.fixture
def demo(db) -> Demo:
    return Demo.load()


@pytest.fixture
def watched(page):
    """The page, with every CSP violation (from the page's event, and from the console) in `violations`."""
    violations: list[str] = []
    page.expose_function("__cspViolation", lambda violation: violations.append(violation))
    page.add_init_script(WATCH)
    page.on(
        "console",
        lambda message: (
            violations.append(f"console: {message.text}") if "Content Security Policy" in message.text else None
        ),
    )
    page.violations = violations
    return page


def html_pages(demo: Demo, visitor: Client, *, desk: bool) -> list[str]:
    """The walk's URLs (the desk's or the rest) that answer this visitor with an HTML page."""
    urls = []
    for route in site_routes():
        if route.is_desk != desk:
            continue
        for url in urls_for(route, demo):
            reached, response = visit(visitor, url)
            if is_html(response) and response.status_code not in (302, 405):
                urls.append(reached)
    return urls


def _log_in(page, live_server) -> None:
    page.goto(live_server.url + "/desk/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("tracker-demo")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    expect(page).to_have_url(live_server.url + "/desk/")


def _visit_all(page, live_server, urls: list[str]) -> None:
    for url in urls:
        page.goto(live_server.url + url, wait_until="load")
    # Violations are reported as events after the fact: one more page makes sure the last one's are in.
    page.goto(live_server.url + "/healthz")


def test_no_public_page_violates_the_csp(watched, live_server, demo):
    urls = [*html_pages(demo, Client(), desk=False), "/no-such-page/"]
    assert len(urls) > 20 and f"/stories/{demo.story.slug}/" in urls

    _visit_all(watched, live_server, urls)

    assert watched.violations == [], "\n".join(watched.violations)
    assert watched.js_errors == [] or all("404" in error for error in watched.js_errors), watched.js_errors


def test_no_desk_page_violates_the_csp(watched, live_server, demo):
    editor = Client()
    editor.force_login(demo.editor)
    urls = html_pages(demo, editor, desk=True)
    assert "/desk/" in urls and "/desk/events/new/" in urls and f"/desk/expectations/{demo.expectation.pk}/" in urls

    _log_in(watched, live_server)
    _visit_all(watched, live_server, urls)

    assert watched.violations == [], "\n".join(watched.violations)


def test_filtering_a_timeline_by_htmx_violates_nothing(watched, live_server, demo):
    watched.goto(live_server.url + demo.story.get_absolute_url())

    with watched.expect_response(lambda response: "kind=meeting" in response.url) as swapped:
        watched.get_by_label("Kind").select_option("meeting")
    assert swapped.value.request.headers.get("hx-request") == "true"
    expect(watched).to_have_url(re.compile(r"kind=meeting"))
    expect(watched.locator("#timeline [data-event-id]").first).to_be_visible()
    watched.go_back()
    expect(watched.locator("#filters")).to_be_visible()
    watched.goto(live_server.url + "/healthz")

    assert watched.violations == [], "\n".join(watched.violations)
    assert watched.js_errors == [], watched.js_errors


def test_the_desk_s_htmx_swaps_violate_nothing(watched, live_server, demo):
    _log_in(watched, live_server)
    watched.goto(live_server.url + f"/desk/expectations/{demo.expectation.pk}/")
    with watched.expect_response(lambda response: "q=Berlin" in response.url):
        watched.get_by_label("Find the event").fill("Berlin")
    expect(watched.locator("#event-choices")).to_contain_text("Berlin")

    watched.goto(live_server.url + "/desk/events/new/")
    rows = watched.locator("#sources-rows > *")
    before = rows.count()
    watched.get_by_role("button", name=re.compile("^Add a source", re.I)).click()
    expect(rows).to_have_count(before + 1)
    watched.goto(live_server.url + "/healthz")

    assert watched.violations == [], "\n".join(watched.violations)
    assert watched.js_errors == [], watched.js_errors


def test_the_watch_hears_a_violation(watched, live_server, demo):
    watched.goto(live_server.url + "/")
    watched.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=\"https://elsewhere.example/x.png\">')")
    watched.goto(live_server.url + "/healthz")

    assert any("img-src blocked https://elsewhere.example/x.png" in violation for violation in watched.violations)
