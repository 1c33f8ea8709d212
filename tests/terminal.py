"""A program in a pseudo-terminal of 80x24, read as a person sees it: pexpect runs it,
pyte (a VT100 emulator) keeps the screen, and answers the terminal queries that
prompt_toolkit sends (cursor position), as a real terminal does."""

import os
import re
import time
from pathlib import Path

import pexpect
import pyte
import yaml
from wcwidth import wcswidth

COLUMNS, ROWS = 80, 24
UP, DOWN, ENTER, SPACE, CLEAR_LINE, CTRL_C = "\x1b[A", "\x1b[B", "\r", " ", "\x15", "\x03"


class _Screen(pyte.Screen):
    """A screen that sends its replies (cursor position reports) back to the program."""

    def __init__(self, columns, rows, reply):
        super().__init__(columns, rows)
        self._reply = reply

    def write_process_input(self, data):
        self._reply(data)


class Terminal:
    def __init__(self, command, args, cwd=None, columns=COLUMNS, rows=ROWS, timeout=60):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMPT_TOOLKIT", "COLUMNS", "LINES"))}
        env.update(TERM="xterm-256color", NO_COLOR="1")
        self.child = pexpect.spawn(command, args, cwd=cwd, env=env, encoding="utf-8", codec_errors="replace",
                                   dimensions=(rows, columns), timeout=timeout)
        self.screen = _Screen(columns, rows, self.child.send)
        self.stream = pyte.Stream(self.screen)
        self.timeout = timeout
        self.ended = False

    def lines(self):
        """The screen, one string per row, trailing blanks removed."""
        return [line.rstrip() for line in self.screen.display]

    def text(self):
        """The screen as one string, rows joined as a terminal wraps them (a row of full width continues)."""
        return "".join(line if len(line) == self.screen.columns else line + "\n" for line in self.screen.display)

    def _read(self, wait):
        try:
            self.stream.feed(self.child.read_nonblocking(65536, timeout=wait))
            return True
        except pexpect.TIMEOUT:
            return False
        except pexpect.EOF:
            self.ended = True
            return False

    def settle(self, until=lambda: True, quiet=0.4, timeout=None):
        """Read until `until()` holds and the program has been silent for `quiet` seconds."""
        deadline = time.monotonic() + (timeout or self.timeout)
        last_output = time.monotonic()
        while time.monotonic() < deadline:
            if self._read(0.05):
                last_output = time.monotonic()
            elif (until() and time.monotonic() - last_output >= quiet) or self.ended:
                if until():
                    return self
                break
        raise AssertionError("the screen never showed what was expected:\n" + "\n".join(self.lines()))

    def send(self, *keys):
        for key in keys:
            self.child.send(key)
        return self

    def finish(self, timeout=120):
        """Wait for the program to end; its exit status."""
        deadline = time.monotonic() + timeout
        while not self.ended and time.monotonic() < deadline:
            self._read(0.2)
        self.child.close()
        return self.child.exitstatus


def fits(line):
    """Whether a line is whole on one row of an 80-column terminal (wide characters count twice)."""
    return wcswidth(line) <= COLUMNS


def refusal_fits(message):
    """Whether one of copier's refusals is whole in the prompt's one-line bar. A question
    answered by picking from a list has no bar (nothing can be mistyped there): its
    refusals come only from --data and data files, printed whole, so any length is fine."""
    match = re.match(r"Validation error for question '(\w+)': ", message)
    if not match:
        return True
    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "copier.yml").read_text())
    spec = config.get(match.group(1)) or {}
    return bool(spec.get("choices") and not spec.get("multiselect")) or fits(message)
