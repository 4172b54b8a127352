"""The OpenAPI 3.1 description of API-1 and API-2, served at `/openapi.json` and shown in the
cabinet (docs/decisions.md, "The OpenAPI description").

Generated, not written by hand: the error codes come from `domain.codes`, the fields from
`domain.params`, the formats and charsets from `api.request`, the answers' shapes from
`openapi_schemas`. The one table kept here is API-1's parameters (`API1_PARAMETERS`): the wire
code reads them one by one (`p.get("ttl")`), and tests/unit/test_openapi.py fails when it
reads a name this table does not describe.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pilotgate
from pilotgate.domain import idempotency, params

from . import openapi_schemas as schemas, request

Schema = dict[str, Any]

#: Where the description is served.
PATH = "/openapi.json"
_FIELDS = ", ".join(params.ALL_FIELDS)

#: API-1's parameters: name → (contract section, description). Every value is a string on
#: the wire; a malformed one gets its documented error code, so none is typed narrower than
#: a string but those with a closed set of meaningful values (`ENUMS`).
API1_PARAMETERS: dict[str, tuple[str, str]] = {
    "apikey": ("§2", "The account's API key."),
    "login": ("§2", "The account's e-mail, with `password` instead of `apikey`."),
    "password": ("§2", "The account's password (with `login`)."),
    "format": ("§4", "The answer's format: " + ", ".join(sorted(request.FORMATS)) + "."),
    "lang": ("§4", "The language of error texts in `text` and `v`: en or ru."),
    "charset": (
        "§2",
        "The encoding of the parameters and of the answer (default utf-8); other names "
        "of these charsets are taken too (windows-1251 for cp1251).",
    ),
    "send": ("§5", "send: the text (or HLR, PING, HLRVIP, or a flash call's code)."),
    "to": ("§2", "send: recipients, a comma list of international numbers."),
    "from": ("§5.3", "send: the sender (a name, a number or a channel such as VIBER)."),
    "sender": ("§2", "send: a synonym of `from`."),
    "send_datetime": ("§5.1", f"send: when, `{params.TIME_FORMAT}` UTC or a unix time."),
    "ttl": ("§5.1", "send: validity in minutes, 1-1440."),
    "fields": ("§5.6", f"send, check: the item fields, a comma list of {_FIELDS}, or all."),
    "cost": ("§5.1", "send: 1 asks for the price only; nothing is sent or charged."),
    "test": ("§5.1", "send: 1 sends through the emulator only."),
    "callback": ("§8", "send: the status callback URL; add_sender: a URL or e-mail."),
    "callback_method": ("§8", "send: get (default) or post."),
    "check": ("§7", "check: an id, a comma list of ids, recent, packet or all."),
    "id": ("§7", "check=packet: the server_packet_id."),
    "server_packet_id": ("§7", "check=packet: a synonym of `id`."),
    "limit": ("§7", "check: page size (at most 1000)."),
    "offset": ("§7", "check: page start."),
    "balance": ("§9", "balance: rur (default) or sms."),
    "inbound": ("§10", f"inbound: all, new, or a time (`{params.TIME_FORMAT}` or unix)."),
    "add_sender": ("§11", "add_sender: the name asked for."),
    "description": ("§11", "add_sender: the project, site and sample texts."),
    "list": ("§11", "senders lists the account's sender names."),
    "debug": ("§14", "An e-mail address to mail a copy of the request and answer to."),
    "r": ("§14", "The referring account's id."),
    idempotency.PARAMETER: ("§17.1", "A key that makes a repeated send safe."),
}

#: The values that mean something, for the parameters that have a closed set of them (any
#: other value is tolerated: the default, or the parameter's error code).
ENUMS: dict[str, list[str]] = {
    "format": sorted(request.FORMATS),
    "lang": ["en", "ru"],
    "charset": sorted(request.CHARSETS),
    "callback_method": ["get", "post"],
    "cost": ["0", "1"],
    "test": ["0", "1"],
    "balance": ["rur", "sms"],
    "list": ["senders"],
}

_API1_SUMMARY = (
    "API-1: one command a request, chosen by the first parameter present: send, check, "
    "balance, inbound, add_sender, list=senders; with credentials alone, the account's info "
    "(contract §3). Every outcome, errors included, is HTTP 200 in the asked format."
)


def _api1_parameters() -> list[Schema]:
    listed: list[Schema] = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": f"{text} (contract {section})",
            "schema": _value(name),
        }
        for name, (section, text) in API1_PARAMETERS.items()
    ]
    return [*listed, _idempotency_header()]


def _value(name: str) -> Schema:
    schema: Schema = {"type": "string"}
    if name in ENUMS:
        schema["enum"] = ENUMS[name]
    return schema


def _idempotency_header() -> Schema:
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "A key that makes a repeated send safe (contract §17.1).",
        "schema": {"type": "string"},
    }


def _form() -> Schema:
    return {
        "type": "object",
        "properties": {name: _value(name) for name in API1_PARAMETERS},
    }


def _answers(json_schema: Schema, description: str) -> dict[str, Schema]:
    """HTTP 200 (every API outcome) and the statuses of what is no API call (contract §1)."""
    plain = {"text/plain": {"schema": {"type": "string"}}}
    cors = {
        "Access-Control-Allow-Origin": {
            "description": "Always `*`: browser extensions call the API directly.",
            "required": True,
            "schema": {"type": "string", "const": "*"},
        }
    }
    return {
        "200": {
            "description": description,
            "headers": cors,
            "content": {
                "application/json": {"schema": json_schema},
                "text/xml": {"schema": {"type": "string"}},
                **plain,
            },
        },
        "413": {"description": "The request body is too large.", "content": plain},
        "503": {"description": "The gateway is shutting down.", "content": plain},
    }


def _api1() -> Schema:
    answer = {"anyOf": [schemas.ref(name) for name in schemas.API1_ANSWERS]}
    responses = _answers(
        answer,
        "The command's answer or an error, in the `format` asked for: JSON (values are "
        "strings), XML, text or v (contract §4), encoded in `charset`.",
    )
    form = _form()
    return {
        "get": {
            "operationId": "api1Get",
            "summary": "API-1 by query string",
            "description": _API1_SUMMARY,
            "parameters": _api1_parameters(),
            "responses": responses,
        },
        "post": {
            "operationId": "api1Post",
            "summary": "API-1 by form",
            "description": _API1_SUMMARY + " The form's values win over the query's.",
            "parameters": [_idempotency_header()],
            "requestBody": {
                "required": False,
                "content": {
                    "application/x-www-form-urlencoded": {"schema": form},
                    "multipart/form-data": {"schema": form},
                },
            },
            "responses": responses,
        },
    }


def _api2() -> Schema:
    answer = {"anyOf": [schemas.ref("Api2Answer"), schemas.ref("Error")]}
    responses = _answers(
        answer,
        "One object with a key per command asked (contract §12), or an error. An XML "
        "document is answered in XML.",
    )
    in_query = {
        "name": "json",
        "in": "query",
        "required": False,
        "description": "The document, when the body holds none (contract §12).",
        "schema": {"type": "string"},
    }
    return {
        "get": {
            "operationId": "api2Get",
            "summary": "API-2 with the document in the query",
            "parameters": [in_query, _idempotency_header()],
            "responses": responses,
        },
        "post": {
            "operationId": "api2Post",
            "summary": "API-2: one JSON document, one or more commands",
            "description": "The body is read as the document whatever its Content-Type "
            "(contract §12); a form's `json=` field holds it too.",
            "parameters": [_idempotency_header()],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {"schema": schemas.ref("Api2Document")},
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "properties": {"json": {"type": "string"}}}
                    },
                },
            },
            "responses": responses,
        },
    }


def document() -> Schema:
    """The whole description, as plain JSON values."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PilotGate SMSPILOT-compatible API",
            "version": pilotgate.__version__,
            "description": "API-1 (`/api.php`) and API-2 (`/api2.php`) as the wire contract "
            "(docs/contract.md in the repository) fixes them. Every API outcome is HTTP 200; "
            "errors carry a code of the catalogue (schema `Error`).",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": {"/api.php": _api1(), "/api2.php": _api2()},
        "components": {"schemas": schemas.components()},
    }


@cache
def served() -> bytes:
    """The description as `/openapi.json` serves it (built once per process)."""
    return json.dumps(document(), ensure_ascii=False, indent=1).encode("utf-8")
