"""The repository documents itself (issue 12): no link or path in README.md, docs/ or the
code's comments points outside the repository, and the wire contract's error catalogue is
the one the gateway answers with."""

from __future__ import annotations

import re
from pathlib import Path

from pilotgate.domain.codes import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "THREAT_MODEL.md", ROOT / "CHANGELOG.md"]
DOCS += sorted((ROOT / "docs").glob("**/*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")
#: Backticked paths that name a place of the repository.
REPO_PATH = re.compile(r"`((?:pilotgate|bench|tests|docs|scripts)/[\w./-]*)`")
#: What once pointed outside: the spec and benchmark folders next to the repository.
OUTSIDE = re.compile(r"COMPAT|\.\./shared|shared/spec|shared/peers|/work/")


def test_every_link_of_the_docs_leads_to_a_file_of_the_repository() -> None:
    broken = []
    for doc in DOCS:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:", "#")):
                continue
            path = (doc.parent / target.split("#")[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert broken == []


def test_every_path_the_docs_name_exists() -> None:
    missing = [
        f"{doc.relative_to(ROOT)}: {path}"
        for doc in DOCS
        for path in REPO_PATH.findall(doc.read_text(encoding="utf-8"))
        if not (ROOT / path.rstrip(".")).exists()
    ]
    assert missing == []


def test_nothing_refers_to_files_outside_the_repository() -> None:
    texts = [*DOCS, *ROOT.glob("pilotgate/**/*.py"), *ROOT.glob("bench/*.py")]
    texts += [*ROOT.glob("pilotgate/**/*.sql"), *ROOT.glob("tests/**/*.py")]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in texts
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == []


def test_the_contract_lists_the_error_catalogue_the_gateway_answers_with() -> None:
    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    table = text.split("## 16. The error catalogue", 1)[1]
    rows = re.findall(r"^\| (\d+) \| (.+?) \| (.+?) \| .+ \|$", table, re.M)
    assert {int(code): (en, ru) for code, en, ru in rows} == CATALOGUE
