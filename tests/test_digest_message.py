"""The digest message's bytes: the quick way (SubscriberMessage, see _quick) writes what the email
package writes, in every language, and mail clients read back the same headers and bodies."""

import email
import email.policy
import re

import pytest
from django.core.mail import mailers
from django.utils import translation

from events import subscriber_mail
from events.subscriber_mail import SubscriberMessage

LANGUAGES = ["en-gb", "fr", "de", "uk", "ru"]
SUBJECTS = {
    "en-gb": "Your daily digest: 3 updates",
    "fr": "Votre récapitulatif quotidien : 3 nouveautés",
    "de": "Ihre tägliche Zusammenfassung: 3 Neuigkeiten",
    "uk": "Ваш щоденний дайджест: 3 оновлення",
    "ru": "Ваш ежедневный дайджест: 3 обновления",
}
WORDS = {
    "en-gb": "What happened in what you follow",
    "fr": "Ce qui s’est passé dans ce que vous suivez, « à la une »",
    "de": "Was in dem geschah, dem Sie folgen – Straße, Größe",
    "uk": "Що сталося в тому, за чим ви стежите",
    "ru": "Что произошло в том, за чем вы следите",
}
URL = "https://tracker.example.org/subscribe/unsubscribe/eyJpZCI6MSwia2V5IjoiYzRjYTQyMzhhMGI5MjM4MiJ9:1xZ7IJ:eZrW8sVGXoTAGq1XrEen7V0to3ny_UFpzBwXPO8SY90/"


def a_message(language: str, *, lines: int = 40, subject: str | None = None) -> SubscriberMessage:
    words = WORDS[language]
    text = "\n".join(
        [f"{words}:", "", *(f"* {words} {n} =?utf-8?q?x?= trailing space " for n in range(lines)), "-- ", URL]
    )
    html = "\n".join(
        [
            f'<!DOCTYPE html><html lang="{language}"><body style="font-family: sans-serif; margin: 0">',
            *(
                f'<p><a href="https://tracker.example.org/{language}/events/e{n}/">{words} {n}</a></p>'
                for n in range(lines)
            ),
            f'<a href="{URL}">{words}</a></body></html>',
        ]
    )
    message = SubscriberMessage(subject=subject or SUBJECTS[language], body=text, to=["reader+1@example.org"])
    message.attach_alternative(html, "text/html")
    message.extra_headers["List-Unsubscribe"] = f"<{URL}>"
    message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.extra_headers["Message-ID"] = "<digest-42@tracker.example.org>"
    return message


def the_email_packages_way(message: SubscriberMessage, policy, monkeypatch) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(subscriber_mail, "_quick", lambda message, policy: None)
        return message.message(policy=policy).as_bytes()


def comparable(raw: bytes) -> bytes:
    """The bytes but for what is made anew for each message: its boundary and its Date."""
    [boundary] = set(re.findall(rb'boundary="([^"]+)"', raw))
    raw = raw.replace(boundary, b"BOUNDARY")
    return re.sub(rb"\nDate: [^\r\n]+", b"\nDate: DATE", raw)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("policy", [email.policy.SMTP, email.policy.default], ids=["smtp", "default"])
@pytest.mark.parametrize("lines", [3, 40])
def test_the_quick_way_writes_the_same_bytes_as_the_email_package(language, policy, lines, monkeypatch):
    message = a_message(language, lines=lines)

    quick = message.message(policy=policy)

    assert isinstance(quick["Subject"], subscriber_mail._Folded)  # it took the quick way
    assert comparable(quick.as_bytes()) == comparable(the_email_packages_way(message, policy, monkeypatch))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_mail_client_reads_back_the_headers_and_both_bodies(language):
    message = a_message(language)

    raw = message.message(policy=email.policy.SMTP).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)

    assert raw.isascii() or b"Content-Transfer-Encoding: 8bit" in raw
    assert parsed["Subject"] == SUBJECTS[language]
    assert parsed["From"] == "Story Tracker <tracker@localhost>"
    assert parsed["To"] == "reader+1@example.org"
    assert parsed["Message-ID"] == "<digest-42@tracker.example.org>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["List-Unsubscribe"] == f"<{URL}>"
    assert parsed["Date"].datetime is not None
    assert f"\r\nList-Unsubscribe: <{URL}>\r\n".encode() in raw
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parsed.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content().replace("\r\n", "\n") == message.body + "\n"
    assert html.get_content().replace("\r\n", "\n") == message.alternatives[0].content + "\n"
    assert not parsed.defects and not text.defects and not html.defects
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998


def test_a_non_ascii_subject_is_encoded_per_rfc_2047():
    raw = a_message("uk").message(policy=email.policy.SMTP).as_bytes()

    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii()
    assert b"Subject: =?utf-8?" in headers


def test_a_message_the_quick_way_does_not_fit_takes_the_email_packages(monkeypatch):
    message = a_message("fr")
    message.to = ["Zoë Reader <zoe@example.org>"]
    message.cc = ["other@example.org"]

    written = message.message(policy=email.policy.SMTP)

    assert not isinstance(written["Subject"], subscriber_mail._Folded)
    assert email.message_from_bytes(written.as_bytes(), policy=email.policy.default)["To"] == message.to[0]


def test_the_tree_it_gives_reads_like_the_email_packages():
    """Backends and tests look into the tree, not only at its bytes."""
    message = a_message("de")

    tree = message.message()

    assert tree["Subject"] == SUBJECTS["de"] and tree["To"] == "reader+1@example.org"
    assert "List-Unsubscribe" in tree
    assert [part.get_content_type() for part in tree.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    assert next(tree.iter_parts()).get_content() == message.body + "\n"


def test_a_boundary_is_never_one_a_body_holds(monkeypatch):
    taken = iter([7, 7, 8])
    monkeypatch.setattr(subscriber_mail.random, "randrange", lambda _: next(taken))
    held = "=" * 15 + f"{7:019d}=="

    assert subscriber_mail._boundary([f"--{held}\n"]) == "=" * 15 + f"{8:019d}=="


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_file_backend_writes_what_a_mail_client_reads(language, tmp_path, settings):
    settings.MAILERS = {
        "files": {"BACKEND": "events.mail.OneFilePerMessageBackend", "OPTIONS": {"file_path": str(tmp_path)}}
    }
    with translation.override(language):
        mailers["files"].send_messages([a_message(language)])

    [path] = tmp_path.iterdir()
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == SUBJECTS[language]
