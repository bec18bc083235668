"""One plain line for a refused command: `error: ...` rather than Django's `CommandError: ...`."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class OneLineErrorCommand(BaseCommand):
    """A command whose CommandError reaches the terminal as `error: <message>` and exit status 1.

    Called through call_command (tests, other code), the CommandError is raised as usual.
    """

    def run_from_argv(self, argv: list[str]) -> Any:
        if "--traceback" in argv:
            return super().run_from_argv(argv)
        try:
            # --traceback makes Django re-raise the CommandError instead of printing its own line.
            return super().run_from_argv([*argv, "--traceback"])
        except CommandError as exc:
            self.stderr.write(f"error: {exc}")
            sys.exit(exc.returncode)
