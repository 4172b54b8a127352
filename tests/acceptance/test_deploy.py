"""What deploy/ ships (issue 18, items 7 and 8): systemd units that `systemd-analyze verify`
takes without a word and that are hardened; Prometheus alert rules `promtool` accepts and
whose own tests pass (that they and the Grafana dashboard name only metrics we export:
tests/unit/test_dashboards.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed on this machine")
    return found


def test_every_role_has_a_unit() -> None:
    assert [unit.name for unit in UNITS] == [
        "pilotgate-api.service",
        "pilotgate-serve.service",
        "pilotgate-worker.service",
    ]


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.stem)
def test_the_units_verify_and_are_hardened(unit: Path, tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze")
    text = unit.read_text(encoding="utf-8")
    role = unit.stem.removeprefix("pilotgate-")
    assert f"ExecStart=/opt/pilotgate/bin/pilotgate {role}\n" in text
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes"):
        assert option + "\n" in text
    assert "ReadWritePaths=/var/lib/pilotgate\n" in text
    # verify wants the command to exist: this checkout's pilotgate stands in for /opt's.
    here = Path(sys.executable).parent / "pilotgate"
    copy = tmp_path / unit.name
    copy.write_text(text.replace("/opt/pilotgate/bin/pilotgate", str(here)), encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, check=False, timeout=60
    )
    # An unknown or misspelt option is only a warning: nothing may be said at all.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    security = subprocess.run(
        [analyze, "security", "--offline=true", str(copy)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
    assert found, security.stdout + security.stderr
    assert float(found.group(1)) <= 2.0  # systemd calls up to 2.0 "OK" (10 is "UNSAFE")


def test_the_alert_rules_check_and_their_tests_pass() -> None:
    promtool = _tool("promtool")
    for args in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"]):
        done = subprocess.run(
            [promtool, *args],
            capture_output=True,
            text=True,
            cwd=DEPLOY / "prometheus",
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "SUCCESS" in done.stdout
