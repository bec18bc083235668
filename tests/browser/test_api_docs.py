"""The API's interactive docs in Chromium: Swagger UI from our own static files, under our strict CSP."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_list_every_operation_with_no_console_or_csp_error_and_nothing_from_elsewhere(page, live_server):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + "/api/docs")
    operations = page.locator(".opblock-summary-path")
    expect(operations).to_have_count(10)
    expect(page.locator(".opblock-summary-path", has_text="/api/stories/{slug}/events")).to_be_visible()
    assert page.js_errors == []
    assert requested and all(url.startswith(live_server.url) for url in requested), requested


def test_trying_an_operation_in_the_docs_shows_the_apis_json_answer(page, live_server):
    page.goto(live_server.url + "/api/docs")
    page.locator(".opblock-summary-path", has_text="/api/topics").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    answer = page.locator(".live-responses-table tr.response")
    expect(answer.locator(".response-col_status")).to_have_text("200")
    expect(answer.locator(".microlight").first).to_contain_text('"items"')
    assert page.js_errors == []
