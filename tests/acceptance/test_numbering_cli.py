"""`pilotgate numbering ...` as the operator types it (in process, on a SQLite file): the
regulator's files in both encodings, malformed lines reported or refused, the ported list,
and `lookup` saying what the gateway believes and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pilotgate.cli import main
from tests.numbering_samples import DEF_WITH_INN, DEF_WITHOUT_INN, PORTED, cp1251, utf8


@pytest.fixture
def run(tmp_path: Path):
    env = {"PILOTGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}

    def invoke(*args: str) -> Result:
        return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    found = {}
    for name, data in [
        ("DEF-old.csv", cp1251(DEF_WITHOUT_INN)),
        ("DEF-new.csv", utf8(DEF_WITH_INN)),
        ("ported.csv", utf8(PORTED)),
    ]:
        (tmp_path / name).write_bytes(data)
        found[name] = str(tmp_path / name)
    return found


def test_import_reports_bad_lines_and_lookup_explains(run, files) -> None:
    refused = run("numbering", "import", "--strict", files["DEF-old.csv"], files["DEF-new.csv"])
    assert refused.exit_code != 0 and "DEF-new.csv line 4" in refused.output
    assert "plan version 0" in run("numbering", "lookup", "79161234567").output

    imported = run("numbering", "import", files["DEF-old.csv"], files["DEF-new.csv"])
    assert imported.exit_code == 0
    assert "skipped DEF-new.csv line 6: range ends before it starts" in imported.output
    assert "5 ranges imported (plan version 1)" in imported.output
    ported = run("numbering", "ported", "import", files["ported.csv"])
    assert "2 ported numbers imported (plan version 2)" in ported.output

    answer = run("numbering", "lookup", "+7 916 123-45-67").output
    assert "operator MegaFon (mcc 250, mnc 02), country RU" in answer
    assert "ported from MTS (mnc 01)" in answer
    assert "outside every range" in run("numbering", "lookup", "79209999999").output
    vodafone = run("numbering", "lookup", "380501234567").output
    assert "operator Vodafone (mcc 255, mnc 01), country UA" in vodafone
    assert "why: prefix 38050" in vodafone  # the shipped CIS ranges
    assert "in no range we know" in run("numbering", "lookup", "998331234567").output
