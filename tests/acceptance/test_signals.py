"""Every long-running command stops cleanly on SIGTERM (issue 12): exit code 0, nothing left
behind, no traceback, also when it was started with SIGINT ignored, as a background job of a
script is (there Ctrl-C's SIGINT never arrives, and a SIGINT-only stop hangs)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from .support import Server, stop_process

#: command → the first line it prints once it serves.
COMMANDS = {
    "smsc-sim": (["smsc-sim", "--port", "0"], "SMSC simulator on 127.0.0.1:"),
    "serve": (["serve", "--port", "0"], "PilotGate listening on "),
    "serve --workers 2": (["serve", "--port", "0", "--workers", "2"], "PilotGate listening on "),
    "api": (["api", "--port", "0"], "PilotGate listening on "),
    "worker": (["worker"], "PilotGate worker running"),
    "demo": (["demo", "--port", "0"], "PilotGate listening on "),
}


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        lines.append(process.stdout.readline())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_long_running_command_exits_cleanly_on_sigterm(tmp_path: Path, name: str) -> None:
    args, banner = COMMANDS[name]
    log = tmp_path / "stderr.log"
    with log.open("w") as errors:
        # `trap "" INT` then exec: the command inherits SIGINT ignored, as from `script &`.
        process = subprocess.Popen(
            ["sh", "-c", 'trap "" INT; exec "$@"', "sh", sys.executable, "-m", "pilotgate", *args],
            env=Server(tmp_path).env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            start_new_session=True,  # its own process group: what it forks can be counted
        )
    group = process.pid
    try:
        line = _first_line(process, 30)
        assert line.startswith(banner), (line, log.read_text())
        code = stop_process(process, 30, log.read_text)
        assert code == 0, log.read_text()
        with pytest.raises(ProcessLookupError):  # no child left running in its group
            os.killpg(group, 0)
        assert "Traceback" not in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        try:
            os.killpg(group, 9)
        except ProcessLookupError:
            pass
