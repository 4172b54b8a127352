"""The JSON Schemas of the OpenAPI description (api/openapi.py): the answers of API-1 (every
value a string, contract §4) and API-2 (numbers where contract §12 says so), the API-2
document, and the error with its catalogue.

Built from the tables the wire code itself uses (`domain.codes.CATALOGUE`,
`domain.params.ALL_FIELDS`, `domain.checks.RESULT_FIELDS`), so a new code or field shows up
here without anyone editing this file.
"""

from __future__ import annotations

from typing import Any

from pilotgate.domain import checks, codes, params

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
MONEY: Schema = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["1.31"]}
NUMBER: Schema = {"type": "number"}
INTEGER: Schema = {"type": "integer"}
#: API-2 takes a string or an integer where a person would write either (`"to": 7908…`).
TEXT_OR_INTEGER: Schema = {"type": ["string", "integer"]}
#: API-2's flags: `1`, `true`, `"yes"`… (domain/packets.py).
FLAG: Schema = {"type": ["integer", "boolean", "string"]}
STATUSES = [-2, -1, 0, 1, 2, 3]
#: API-1 info keys (contract §9), in the order the answer lists them.
INFO_KEYS = (
    *("id", "tariff_id", "email", "name", "phone", "balance", "date"),
    *("default_sender", "any_sender", "senders", "allow_ip"),
)


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def catalogue_table() -> str:
    """The catalogue as a Markdown table, for the error schema's description."""
    rows = [f"| {code} | {en} | {ru} |" for code, (en, ru) in sorted(codes.CATALOGUE.items())]
    return "\n".join(["| code | English | Russian |", "|---|---|---|", *rows])


def _error() -> Schema:
    codes_as_text = [str(code) for code in sorted(codes.CATALOGUE)]
    return {
        "description": "Every API error, in either API (contract §16):\n\n" + catalogue_table(),
        **_object(
            {
                "error": _object(
                    {
                        "code": {"type": "string", "enum": codes_as_text},
                        "description": STRING,
                        "description_ru": STRING,
                    },
                    ("code", "description", "description_ru"),
                )
            },
            ("error",),
        ),
    }


def _api1_item() -> Schema:
    """A message in a send or check answer: the `fields` asked for (contract §5.6), and a
    number check's result fields (§13.1), all strings."""
    names = (*params.ALL_FIELDS, *checks.RESULT_FIELDS, *checks.ALIASES)
    return {
        **_object({name: STRING for name in names}),
        "additionalProperties": STRING,
    }


def _api1_answers() -> dict[str, Schema]:
    item = ref("Api1Message")
    sender = _object({"id": STRING, "name": STRING, "state": STRING, "created": STRING})
    inbound = _object(
        {name: STRING for name in ("id", "phone", "num", "text", "created", "server_id")}
    )
    return {
        "Api1Message": _api1_item(),
        "Api1Send": _object(
            {
                "send": {"type": "array", "items": item},
                "balance": MONEY,
                "cost": MONEY,
                "server_packet_id": STRING,
            },
            ("send", "balance", "cost", "server_packet_id"),
        ),
        "Api1Cost": _object({"cost": MONEY}, ("cost",)),
        "Api1Check": _object({"check": {"type": "array", "items": item}}, ("check",)),
        "Api1Balance": _object({"balance": STRING}, ("balance",)),
        "Api1Info": _object({key: STRING for key in INFO_KEYS}, INFO_KEYS),
        "Api1Inbound": _object({"inbound": {"type": "array", "items": inbound}}, ("inbound",)),
        "Api1Senders": _object({"senders": {"type": "array", "items": sender}}, ("senders",)),
        "Api1AddSender": _object(
            {"add_sender": {"type": "array", "items": sender}}, ("add_sender",)
        ),
    }


#: The JSON answers of API-1, one per command, and the error.
API1_ANSWERS = (
    *("Api1Send", "Api1Cost", "Api1Check", "Api1Balance", "Api1Info"),
    *("Api1Inbound", "Api1Senders", "Api1AddSender", "Error"),
)


def _api2_document() -> dict[str, Schema]:
    send_item = _object(
        {
            "id": {
                "type": ["string", "integer"],
                "description": "The client's own id, echoed in the answer.",
            },
            "to": TEXT_OR_INTEGER,
            "from": STRING,
            "text": STRING,
            "send_datetime": TEXT_OR_INTEGER,
            "ttl": TEXT_OR_INTEGER,
            "callback": STRING,
            "callback_method": {"type": "string", "enum": ["get", "post"]},
        }
    )
    check_item = _object({"server_id": TEXT_OR_INTEGER}, ("server_id",))
    return {
        "Api2SendItem": send_item,
        "Api2Document": {
            "description": "One API-2 document (contract §12): credentials and one or more "
            "commands. The same shape in XML is accepted too and answered in XML.",
            **_object(
                {
                    "apikey": STRING,
                    "login": STRING,
                    "password": STRING,
                    "from": {"type": "string", "description": "The items' default sender."},
                    "test": FLAG,
                    "cost": FLAG,
                    "callback": STRING,
                    "send": {
                        "anyOf": [
                            {"type": "array", "items": ref("Api2SendItem")},
                            ref("Api2SendItem"),
                        ]
                    },
                    "check": {
                        "description": "Messages by server_id, or true with server_packet_id.",
                        "anyOf": [
                            {"type": "array", "items": {"anyOf": [check_item, TEXT_OR_INTEGER]}},
                            check_item,
                            {"const": True},
                        ],
                    },
                    "server_packet_id": TEXT_OR_INTEGER,
                    "balance": {"anyOf": [{"type": "boolean"}, {"enum": ["rur", "sms"]}]},
                    "info": {"type": "boolean"},
                    "inbound": {
                        "description": "true or all, new, or a time (or give `since`).",
                        "anyOf": [{"type": "boolean"}, TEXT_OR_INTEGER],
                    },
                    "since": {"type": "string", "examples": ["2026-01-31 23:59:00"]},
                    "debug": STRING,
                    "r": TEXT_OR_INTEGER,
                    "idempotency_key": STRING,
                }
            ),
        },
    }


def _api2_answers() -> dict[str, Schema]:
    common = {
        "server_id": STRING,
        "from": STRING,
        "to": STRING,
        "parts": INTEGER,
        "status": {"type": "integer", "enum": STATUSES},
        "error": INTEGER,
        "send_datetime": STRING,
        "country": STRING,
        "operator": STRING,
        "price": NUMBER,
    }
    required = tuple(common)
    inbound = _object(
        {
            "id": INTEGER,
            **{name: STRING for name in ("phone", "num", "text", "created", "server_id")},
        },
        ("id", "phone", "num", "text", "created", "server_id"),
    )
    info = _object(
        {
            "id": INTEGER,
            "tariff_id": INTEGER,
            **{name: STRING for name in ("email", "phone", "name", "date", "senders")},
            "balance": NUMBER,
            "default_sender": STRING,
            "any_sender": {"type": "integer", "enum": [0, 1]},
        }
    )
    return {
        "Api2Sent": _object({"id": {}, **common, "text": STRING}, ("id", *required)),
        "Api2Checked": _object(
            {"id": {}, **common, "modified": STRING}, ("id", *required, "modified")
        ),
        "Api2Answer": _object(
            {
                "send": {"type": "array", "items": ref("Api2Sent")},
                "server_packet_id": STRING,
                "balance": NUMBER,
                "cost": NUMBER,
                "check": {"type": "array", "items": ref("Api2Checked")},
                "info": info,
                "inbound": {"type": "array", "items": inbound},
            }
        ),
    }


def components() -> dict[str, Schema]:
    """Every named schema of the description."""
    return {
        "Error": _error(),
        **_api1_answers(),
        **_api2_document(),
        **_api2_answers(),
    }
