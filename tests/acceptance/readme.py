"""The README's command lines, read from the README itself, so that a test runs exactly what a
new user would copy."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
PILOTGATE = ".venv/bin/pilotgate"


def section(title: str) -> str:
    """The text of the README section headed `## title` (up to the next `## `)."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def shell_lines(text: str) -> list[str]:
    """The lines of the ```sh blocks of `text`, backslash continuations joined."""
    lines: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S):
        lines += block.replace("\\\n", " ").splitlines()
    return lines


def curl_urls(text: str) -> list[str]:
    """The URL of every `curl "…"` line of `text`."""
    return [
        shlex.split(line, comments=True)[1]
        for line in shell_lines(text)
        if line.startswith("curl ")
    ]


def pilotgate_commands(text: str) -> list[list[str]]:
    """The arguments of every `.venv/bin/pilotgate …` line of `text` (comments dropped)."""
    return [
        shlex.split(line, comments=True)[1:]
        for line in shell_lines(text)
        if line.startswith(PILOTGATE + " ")
    ]
