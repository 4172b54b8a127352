"""What a plain `pip install pilotgate` brings: only what the gateway runs on."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Used by the tests and bench/ only (httpx, and sniffio for its httpcore), or no longer at
#: all (gsm0338: domain/text.py holds the GSM 03.38 table).
NOT_AT_RUNTIME = ("httpx", "httpcore", "sniffio", "gsm0338")


def _name(requirement: str) -> str:
    return requirement.split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower()


def test_runtime_dependencies_leave_out_what_only_tests_use():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    dev = {_name(r) for r in project["optional-dependencies"]["dev"]}
    assert runtime.isdisjoint(NOT_AT_RUNTIME)
    assert {"httpx", "sniffio"} <= dev


def test_every_gateway_module_imports_without_them():
    # A None entry in sys.modules makes `import httpx` fail at once, as on an install
    # without the dev extras.
    script = (
        "import importlib, pkgutil, sys\n"
        f"for name in {NOT_AT_RUNTIME!r}: sys.modules[name] = None\n"
        "import pilotgate\n"
        "for mod in pkgutil.walk_packages(pilotgate.__path__, 'pilotgate.'):\n"
        "    if mod.name != 'pilotgate.__main__':\n"
        "        importlib.import_module(mod.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
