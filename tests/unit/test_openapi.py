"""The OpenAPI description (issue 18, item 6) is valid OpenAPI 3.1 and cannot drift from the
code: its error codes are the catalogue, its API-1 parameters every name the wire code
reads, its API-2 document every key the document's rules read."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from openapi_spec_validator import validate
from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator

from pilotgate.api import openapi
from pilotgate.domain import codes, params

ROOT = Path(__file__).resolve().parents[2]


def _names_read(path: Path, readers: set[str]) -> set[str]:
    """The string literals passed to `x.get("…")`, `x.has("…")`, `x["…"]` or
    `helper(x, "…")` of the objects named `readers` in one module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "has")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            owner = node.func.value
            while isinstance(owner, ast.Attribute):  # p.values.get(…)
                owner = owner.value
            if isinstance(owner, ast.Name) and owner.id in readers:
                found.add(node.args[0].value)
        elif (
            isinstance(node, ast.Call)
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in readers
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            found.add(node.args[1].value)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id in readers
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            found.add(node.slice.value)
    return found


def test_the_description_is_valid_openapi_3_1() -> None:
    document = openapi.document()
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)
    # What /openapi.json serves is that document.
    assert json.loads(openapi.served()) == document


def test_every_error_code_of_the_catalogue_is_described() -> None:
    error = openapi.document()["components"]["schemas"]["Error"]
    described = error["properties"]["error"]["properties"]["code"]["enum"]
    assert described == [str(code) for code in sorted(codes.CATALOGUE)]
    for code, (english, russian) in codes.CATALOGUE.items():
        assert f"| {code} | {english} | {russian} |" in error["description"]


def test_every_api1_parameter_the_code_reads_is_described() -> None:
    read = _names_read(ROOT / "pilotgate/api/api1.py", {"p"})
    read |= _names_read(ROOT / "pilotgate/api/request.py", {"raw"})
    assert {"send", "to", "check", "format", "charset"} <= read  # the scan sees them
    get = openapi.document()["paths"]["/api.php"]["get"]
    described = {p["name"] for p in get["parameters"] if p["in"] == "query"}
    assert read - described == set()
    post = openapi.document()["paths"]["/api.php"]["post"]
    form = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert set(form["properties"]) == described


def test_every_api2_key_the_rules_read_is_described() -> None:
    read = _names_read(ROOT / "pilotgate/domain/packets.py", {"doc"})
    assert {"apikey", "send", "check", "since"} <= read
    schemas = openapi.document()["components"]["schemas"]
    described = set(schemas["Api2Document"]["properties"])
    assert read - described == set()
    assert {"debug", "r", "idempotency_key"} <= described  # read by api/api2.py
    items = _names_read(ROOT / "pilotgate/domain/packets.py", {"values", "entry"})
    assert items - set(schemas["Api2SendItem"]["properties"]) - {"server_id"} == set()


def test_message_fields_are_the_ones_fields_may_name() -> None:
    item = openapi.document()["components"]["schemas"]["Api1Message"]
    assert set(params.ALL_FIELDS) <= set(item["properties"])
    assert ", ".join(params.ALL_FIELDS) in openapi.API1_PARAMETERS["fields"][1]
