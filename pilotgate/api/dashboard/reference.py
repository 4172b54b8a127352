"""The cabinet's API reference page: the OpenAPI description (api/openapi.py) turned into
rows a template shows, so the page and `/openapi.json` cannot tell different stories.

Rendered on the server through the dashboard's templates (autoescaped) rather than by a
JavaScript viewer: no bundle to vendor and keep up to date, and the page works without
scripts (docs/decisions.md, "The OpenAPI description")."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pilotgate.api import openapi
from pilotgate.domain import codes

Schema = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Row:
    """One parameter or field: its name, where it goes, its type in words, what it does."""

    name: str
    where: str
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    text: str
    parameters: tuple[Row, ...]
    bodies: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class Shape:
    """A named schema: an answer, the API-2 document, the error."""

    name: str
    text: str
    fields: tuple[Row, ...]


def kind(schema: Schema) -> str:
    """A schema in a few words: `string`, `one of json, xml`, `array of Api1Message`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return "one of " + ", ".join(str(value) for value in schema["enum"])
    if "const" in schema:
        return str(schema["const"]).lower()
    if "anyOf" in schema:
        return " or ".join(kind(option) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return "array of " + kind(schema.get("items", {}))
    found = schema.get("type", "any value")
    return " or ".join(found) if isinstance(found, list) else str(found)


def _operation(path: str, method: str, spec: Schema) -> Operation:
    parameters = tuple(
        Row(p["name"], p["in"], kind(p["schema"]), p.get("description", ""))
        for p in spec.get("parameters", [])
    )
    content = spec.get("requestBody", {}).get("content", {})
    bodies = tuple(Row(media, "body", kind(body["schema"]), "") for media, body in content.items())
    return Operation(
        method.upper(),
        path,
        spec.get("summary", ""),
        spec.get("description", ""),
        parameters,
        bodies,
    )


def _shape(name: str, schema: Schema) -> Shape:
    required = set(schema.get("required", []))
    fields = tuple(
        Row(field, "required" if field in required else "", kind(value), "")
        for field, value in schema.get("properties", {}).items()
    )
    # The error's description is the catalogue as a Markdown table: the page has its own.
    text = "" if name == "Error" else schema.get("description", "")
    return Shape(name, text, fields)


@cache
def view() -> dict[str, Any]:
    """What api_reference.html shows (built once per process)."""
    document = openapi.document()
    operations = [
        _operation(path, method, spec)
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
    ]
    shapes = [_shape(name, schema) for name, schema in document["components"]["schemas"].items()]
    errors = [(code, en, ru) for code, (en, ru) in sorted(codes.CATALOGUE.items())]
    return {
        "title": document["info"]["title"],
        "version": document["info"]["version"],
        "intro": document["info"]["description"],
        "operations": operations,
        "shapes": shapes,
        "errors": errors,
        "spec_path": openapi.PATH,
    }
