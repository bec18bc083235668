"""Mail written one file per message, for the embedded default and the demo (var/mail/)."""

import datetime
import uuid
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend


class OneFilePerMessageBackend(EmailBackend):
    """Django's file backend appends a connection's messages to one log; a reader (or a test) wants
    each message as its own .eml file that a mail client can open."""

    def open(self) -> bool:
        # The parent opens its shared .log file here (`with mailers.default as connection:` calls it),
        # which would leave an empty .log beside the messages; each message opens its own file instead.
        return False

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages or []:
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%f")
            target = Path(self.file_path) / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            partial = target.with_suffix(".part")
            # Write then rename, so nothing ever reads half a message.
            partial.write_bytes(message.message().as_bytes())
            partial.rename(target)
            sent += 1
        return sent
