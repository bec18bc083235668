"""A one-line progress display for long commands, on stderr: `events 350,000/1,000,000 35% 42 s`."""

import time

from django.core.management.base import OutputWrapper


class ProgressLine:
    """Called as progress(label, done, total), once with done=0 when a stage begins and then as it goes.

    On a terminal the line is redrawn in place (at most ten times a second) and ended when the stage
    is done; elsewhere (a log file, a pipe, a test) a plain line is written at each tenth of the way.
    """

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._label = ""
        self._started = self._drawn = 0.0
        self._tenths = 0

    def __call__(self, label: str, done: int, total: int) -> None:
        if total <= 0:
            return
        now = time.monotonic()
        if done == 0 or label != self._label:
            self._label, self._started, self._drawn, self._tenths = label, now, 0.0, 0
        line = f"{label} {done:,}/{total:,} {done * 100 // total}% {now - self._started:.0f} s"
        finished = done >= total
        if self.tty:
            if finished or now - self._drawn >= 0.1:
                # \x1b[K clears what is left of a longer previous line.
                self._write(f"\r{line}\x1b[K" + ("\n" if finished else ""))
                self._drawn = now
        elif done * 10 // total > self._tenths:
            self._tenths = done * 10 // total
            self._write(line + "\n")

    def _write(self, text: str) -> None:
        # Not in the error style (red) that a command's stderr takes by default.
        self.stream.write(text, style_func=str, ending="")
        self.stream.flush()
