"""The interface in the reader's language (English, the source, and French, German, Ukrainian and
Russian): complete catalogs in step with the code, the language from the URL, then the reader's choice,
then the browser's; pages, dates and emails in it; content marked with the language it is written in.

What a page must say in a language is asked of the catalog (`said`), not written here: the tests check
that a page is translated, whatever words the translators chose.
"""

import datetime
import json
import re
import shutil
import subprocess
import sys
import zoneinfo
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext, ngettext, pgettext

from events import dates
from events.models import DatePrecision
from events.services import digests as pipeline
from tests.factories import EventFactory, ExpectationFactory, StoryFactory, SubscriberFactory

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
DOMAINS = ["django", "djangojs"]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]+\}|<[^>]+>")
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
TALKS = datetime.datetime(2022, 2, 7, 15, 0, tzinfo=datetime.UTC)  # 18:00 in Moscow


def said(language: str, text: str, context: str | None = None) -> str:
    """`text` as the interface says it in `language` (asserting that it is translated)."""
    with translation.override(language):
        translated = pgettext(context, text) if context else gettext(text)
    assert translated != text, f"{text!r} is not translated into {language}"
    return translated


def html_said(language: str, text: str) -> str:
    """As `said`, escaped as a template shows it."""
    from django.utils.html import escape

    return escape(said(language, text))


# --- The catalogs ---------------------------------------------------------------------------------


def catalog(language: str, domain: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.po"))


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_is_complete_with_its_placeholders_kept(language, domain):
    po = catalog(language, domain)
    assert po.metadata["Language"] == language
    assert not [entry.msgid for entry in po.untranslated_entries()], "untranslated"
    assert not [entry.msgid for entry in po.fuzzy_entries()], "fuzzy"
    wrong = []
    for entry in po.translated_entries():
        expected = sorted(set(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid)) - {"<br>"})
        for translation_ in [entry.msgstr] if not entry.msgid_plural else entry.msgstr_plural.values():
            found = sorted(set(PLACEHOLDER.findall(translation_)) - {"<br>"})
            # A plural's singular may say "one" rather than its number, as the language wishes.
            if found != expected and not (entry.msgid_plural and set(found) <= set(expected)):
                wrong.append(f"{entry.msgid!r}: {translation_!r}")
    assert not wrong, "placeholders or tags differ:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", LANGUAGES)
def test_gettext_compiles_every_catalog_without_a_warning(language):
    for domain in DOMAINS:
        path = ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.po"
        result = subprocess.run(
            ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr


def test_the_catalogs_hold_every_string_of_the_code_and_no_other(tmp_path):
    """`make messages` on a copy of the code changes no catalog's entries: nothing new, nothing gone."""
    copy = tmp_path / "copy"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".venv", ".git", "var", "staticfiles", "node_modules", "*.mo", "__pycache__"),
    )
    result = subprocess.run(
        ["scripts/update-messages"],
        cwd=copy,
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "SECRET_KEY": "test"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    def entries(root: Path, language: str, domain: str) -> set[tuple]:
        po = polib.pofile(str(root / "locale" / language / "LC_MESSAGES" / f"{domain}.po"))
        return {(entry.msgctxt, entry.msgid, entry.msgid_plural) for entry in po if not entry.obsolete}

    for language in LANGUAGES:
        for domain in DOMAINS:
            committed, wanted = entries(ROOT, language, domain), entries(copy, language, domain)
            assert wanted - committed == set(), f"{language}/{domain}: new strings: run `make messages`, translate"
            assert committed - wanted == set(), f"{language}/{domain}: strings no longer used: run `make messages`"


# --- Dates at each precision ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "exact", "day", "month", "year"),
    # CLDR's: Ukrainian and Russian write a no-break space before the year's abbreviation.
    [
        ("en-gb", "7 Feb 2022, 18:00 MSK", "7 Feb 2022", "Feb 2022", "2022"),
        ("fr", "7 févr. 2022, 18:00 MSK", "7 févr. 2022", "févr. 2022", "2022"),
        ("de", "7. Feb. 2022, 18:00 MSK", "7. Feb. 2022", "Feb. 2022", "2022"),
        ("uk", "7 лют. 2022\u202fр., 18:00 MSK", "7 лют. 2022\u202fр.", "лют. 2022\u202fр.", "2022"),
        ("ru", "7 февр. 2022\u202fг., 18:00 MSK", "7 февр. 2022\u202fг.", "февр. 2022\u202fг.", "2022"),
    ],
)
def test_dates_are_shown_at_their_precision_in_the_language(language, exact, day, month, year):
    with translation.override(language):
        assert dates.format_moment(TALKS, DatePrecision.EXACT, MOSCOW) == exact
        assert dates.format_moment(TALKS, DatePrecision.DAY, MOSCOW) == day
        assert dates.format_moment(TALKS, DatePrecision.MONTH, MOSCOW) == month
        assert dates.format_moment(TALKS, DatePrecision.YEAR, MOSCOW) == year
        around = dates.format_date(datetime.date(2022, 2, 10), DatePrecision.APPROXIMATE)
    ten = dates.format_date(datetime.date(2022, 2, 10), DatePrecision.DAY)
    with translation.override(language):
        ten = dates.format_date(datetime.date(2022, 2, 10), DatePrecision.DAY)
    assert ten in around and around != ten
    if language != settings.LANGUAGE_CODE:
        assert "around" not in around


# --- Pages --------------------------------------------------------------------------------------------


@pytest.fixture
def story(db):
    """A story with an event at each precision and an expectation, in English."""
    story = StoryFactory(title="Macron in Moscow", slug="macron-in-moscow", language="en-gb")
    EventFactory(story=story, title="Talks in the Kremlin", start=TALKS, start_precision="exact")
    EventFactory(
        story=story,
        title="Sanctions announced",
        start=dates.anchor(datetime.date(2022, 2, 20), "day"),
        start_precision="day",
    )
    EventFactory(
        story=story,
        title="Talks in spring",
        start=dates.anchor(datetime.date(2022, 3, 1), "month"),
        start_precision="month",
    )
    EventFactory(
        story=story,
        title="Around the summit",
        start=dates.anchor(datetime.date(2022, 2, 10), "approximate"),
        start_precision="approximate",
    )
    ExpectationFactory(story=story, title="Macron to visit Kyiv", due_on=datetime.date(2031, 2, 8), due_precision="day")
    return story


def _dates_of(story, language: str) -> list[str]:
    with translation.override(language):
        return [event.when for event in story.events.all()]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_story_page_comes_in_the_language_of_its_address(client, story, language):
    response = client.get(f"/{language}/stories/{story.slug}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert f'<html lang="{language}">' in content
    assert response["Content-Language"] == language
    assert html_said(language, "Timeline") in content
    assert html_said(language, "What’s next") in content or html_said(language, "What's next") in content
    for when in _dates_of(story, language):
        assert when in content
    # The story's own text is marked as English, the language it is written in.
    assert '<h1 lang="en-gb">Macron in Moscow</h1>' in content
    assert 'lang="en-gb"><a href="/fr/events/' in content or language != "fr"
    # Links stay in the language.
    assert f'href="/{language}/events/' in content


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_event_page_comes_in_the_language_of_its_address(client, story, language):
    event = story.events.get(title="Talks in the Kremlin")
    response = client.get(f"/{language}/events/{event.slug}/")
    content = response.content.decode()
    assert response.status_code == 200
    assert f'<html lang="{language}">' in content
    assert html_said(language, "Back to the timeline of %(title)s").replace("%(title)s", "Macron in Moscow") in content
    assert _dates_of(story, language)[0] in content or event.when in content
    with translation.override(language):
        assert event.when in content


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_subscribe_page_comes_in_the_language_and_offers_it_for_the_emails(client, story, language):
    response = client.get(f"/{language}/subscribe/?story={story.slug}")
    content = response.content.decode()
    assert response.status_code == 200
    assert f'<html lang="{language}">' in content
    assert f'<option value="{language}" selected' in content


def test_english_stays_at_the_addresses_it_always_had(client, story):
    response = client.get(f"/stories/{story.slug}/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert '<html lang="en-gb">' in response.content.decode()
    assert "Accept-Language" in response["Vary"]


def test_a_browser_asking_for_french_is_sent_to_the_french_page(client, story):
    response = client.get(
        f"/stories/{story.slug}/?kind=meeting",
        headers={"Accept": "text/html", "Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/fr/stories/{story.slug}/?kind=meeting"
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}


def test_a_reader_who_chose_english_stays_in_english_whatever_the_browser_asks(client, story):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en-gb"
    response = client.get(f"/stories/{story.slug}/", headers={"Accept": "text/html", "Accept-Language": "fr"})
    assert response.status_code == 200


def test_feeds_and_scripts_are_not_redirected(client, story):
    for path in (f"/stories/{story.slug}/feed.atom", f"/stories/{story.slug}/updates/?since=2022-01-01T00:00:00Z"):
        response = client.get(path, headers={"Accept": "*/*", "Accept-Language": "fr"})
        assert response.status_code in (200, 204, 304), path


def test_the_switcher_keeps_the_choice_and_goes_to_the_same_page_in_that_language(client, story):
    response = client.get("/language/", {"to": "uk", "next": f"/fr/stories/{story.slug}/?kind=meeting"})
    assert response.status_code == 302
    assert response["Location"] == f"/uk/stories/{story.slug}/?kind=meeting"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "uk"
    # Now an unprefixed page takes the reader to Ukrainian, and English undoes it.
    response = client.get(f"/stories/{story.slug}/", headers={"Accept": "text/html"})
    assert response["Location"] == f"/uk/stories/{story.slug}/"
    response = client.get("/language/", {"to": "en-gb", "next": f"/uk/stories/{story.slug}/"})
    assert response["Location"] == f"/stories/{story.slug}/"
    assert client.get(f"/stories/{story.slug}/", headers={"Accept": "text/html"}).status_code == 200


def test_the_switcher_refuses_an_unknown_language_and_an_address_elsewhere(client):
    response = client.get("/language/", {"to": "xx", "next": "/"})
    assert response.status_code == 400
    assert "xx" in response.content.decode() and "fr" in response.content.decode()
    response = client.get("/language/", {"to": "fr", "next": "https://evil.example/"})
    assert response["Location"] == "/fr/"
    response = client.get("/language/", {"to": "fr", "next": "//evil.example/"})
    assert response["Location"] == "/fr/"


def test_every_page_names_its_versions_in_the_other_languages(client, story):
    content = client.get(f"/de/stories/{story.slug}/").content.decode()
    for code, _ in settings.LANGUAGES:
        prefix = "" if code == settings.LANGUAGE_CODE else f"/{code}"
        assert (
            f'<link rel="alternate" hreflang="{code}" href="{settings.SITE_URL}{prefix}/stories/{story.slug}/">'
            in content
        )
    assert f'hreflang="x-default" href="{settings.SITE_URL}/stories/{story.slug}/"' in content
    # The switcher: each language in its own name, the page's marked.
    assert '<a href="/language/?to=uk&amp;next=/de/stories/' in content
    assert 'lang="uk" data-language-switch>Українська</a>' in content
    assert 'lang="de" data-language-switch aria-current="true">Deutsch</a>' in content


def test_the_page_cache_keeps_each_language_apart(client, story):
    english = client.get(f"/stories/{story.slug}/").content.decode()
    french = client.get(f"/fr/stories/{story.slug}/").content.decode()
    assert '<html lang="en-gb">' in english and '<html lang="fr">' in french
    assert '<html lang="en-gb">' in client.get(f"/stories/{story.slug}/").content.decode()
    assert '<html lang="fr">' in client.get(f"/fr/stories/{story.slug}/").content.decode()


def test_the_live_notice_speaks_the_page_language(client, story):
    EventFactory(story=story, title="Macron lands in Kyiv", start=TALKS + datetime.timedelta(days=1))
    response = client.get(f"/uk/stories/{story.slug}/updates/", {"since": "2000-01-01T00:00:00+00:00"})
    assert response.status_code == 200
    with translation.override("uk"):
        expected = ngettext("%(count)s new development", "%(count)s new developments", 5) % {"count": 5}
    assert expected in response.content.decode()


def test_the_javascript_catalog_is_served_in_the_language_and_kept_long(client):
    response = client.get("/fr/jsi18n/?v=1")
    assert response.status_code == 200
    # As the catalog writes it: JSON, its accents escaped.
    assert json.dumps(said("fr", "No events match these filters.")) in response.content.decode()
    assert "immutable" in response["Cache-Control"]


# --- Emails -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_digest_comes_in_the_subscriber_language(story, language):
    subscriber = SubscriberFactory(language=language, last_digest_at=TALKS - datetime.timedelta(days=1))
    subscriber.stories.set([story])
    pipeline.send_due(
        kind=pipeline.DIGEST, now=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1, minutes=1)
    )
    [message] = mail.outbox
    with translation.override(language):
        subject = ngettext("Your daily digest: %(count)d update", "Your daily digest: %(count)d updates", 4) % {
            "count": 4
        }
    assert message.subject == subject
    html = next(content for content, kind in message.alternatives if kind == "text/html")
    assert f'<html lang="{language}">' in html
    assert f"/{language}/events/" in message.body and f"/{language}/subscribe/manage/" in message.body
    with translation.override(language):
        for event in story.events.all():
            assert event.when in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_desk_comes_in_the_editor_language(editor_client, story, language):
    response = editor_client.get(f"/{language}/desk/")
    content = response.content.decode()
    assert response.status_code == 200
    assert f'<html lang="{language}">' in content
    assert html_said(language, "Log a development") in content
    assert f'href="/{language}/desk/events/new/"' in content
    # Its forms, and their messages, too.
    response = editor_client.post(f"/{language}/desk/events/new/", {"story": story.pk})
    assert html_said(language, "This field is required.") in response.content.decode()


def test_the_login_leads_to_the_desk_in_the_language_of_the_login_page(client, editor):
    editor.set_password("a long enough password")
    editor.save()
    response = client.post("/fr/accounts/login/", {"username": editor.username, "password": "a long enough password"})
    assert response.status_code == 302 and response["Location"] == "/fr/desk/"


def test_the_javascript_catalog_is_one_answer_per_language_whatever_its_query(client):
    from tracker import languages

    first = client.get("/uk/jsi18n/?v=1").content
    assert client.get("/uk/jsi18n/?v=anything-else").content == first
    assert len(languages._catalogs) <= len(settings.LANGUAGES)


def test_an_error_page_offers_the_same_address_in_the_other_languages(client, db):
    response = client.get("/fr/no-such-page/")
    assert response.status_code == 404
    content = response.content.decode()
    assert f'hreflang="en-gb" href="{settings.SITE_URL}/no-such-page/"' in content
    assert f'hreflang="uk" href="{settings.SITE_URL}/uk/no-such-page/"' in content
