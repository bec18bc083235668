"""events.mail.OneFilePerMessageBackend: the embedded default's mail, one .eml file per message."""

import email
from email import policy

import pytest
from django.core.mail import EmailMessage, mailers, send_mail


@pytest.fixture
def mail_folder(tmp_path, settings):
    """A mailer named "files" writing into a temporary folder, beside the suite's locmem default."""
    folder = tmp_path / "mail"
    settings.MAILERS = {
        **settings.MAILERS,
        "files": {"BACKEND": "events.mail.OneFilePerMessageBackend", "OPTIONS": {"file_path": str(folder)}},
    }
    return folder


def read_messages(folder) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(folder.iterdir())]


def test_send_mail_writes_the_message_as_one_eml_file(mail_folder):
    sent = send_mail(
        "Overdue", "Macron's visit to Kyiv is overdue.", "desk@example.org", ["a@example.org"], using="files"
    )

    assert sent == 1
    (path,) = mail_folder.iterdir()
    assert path.suffix == ".eml"
    (message,) = read_messages(mail_folder)
    assert message["Subject"] == "Overdue"
    assert message["To"] == "a@example.org"
    assert message.get_content().strip() == "Macron's visit to Kyiv is overdue."


def test_each_message_of_one_connection_gets_its_own_file(mail_folder):
    messages = [EmailMessage(f"Digest {n}", "body", "desk@example.org", [f"r{n}@example.org"]) for n in range(3)]

    with mailers["files"] as connection:
        sent = connection.send_messages(messages)

    assert sent == 3
    assert sorted(path.suffix for path in mail_folder.iterdir()) == [".eml"] * 3
    assert sorted(message["Subject"] for message in read_messages(mail_folder)) == ["Digest 0", "Digest 1", "Digest 2"]


def test_messages_sent_in_quick_succession_do_not_overwrite_each_other(mail_folder):
    for n in range(5):
        send_mail(f"Alert {n}", "body", "desk@example.org", ["a@example.org"], using="files")

    assert len(list(mail_folder.iterdir())) == 5


def test_the_folder_is_created_when_missing(mail_folder):
    assert not mail_folder.exists()

    send_mail("First", "body", "desk@example.org", ["a@example.org"], using="files")

    assert mail_folder.is_dir()


def test_no_partial_file_is_left_behind(mail_folder):
    send_mail("Whole", "body", "desk@example.org", ["a@example.org"], using="files")

    assert not list(mail_folder.glob("*.part"))


def test_a_message_with_no_recipients_writes_nothing(mail_folder):
    sent = send_mail("Nobody", "body", "desk@example.org", [], using="files")

    assert sent == 0
    assert not mail_folder.exists() or not list(mail_folder.iterdir())
