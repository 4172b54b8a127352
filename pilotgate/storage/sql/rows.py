"""Column lists and row mappers, once for both databases.

A mapper is made from the record's own fields (`reader`): the columns of a statement name
the fields in order, and each value is converted by its field's type, so a column added to a
record is read by adding it to the column list, and a list out of step with the record fails
at import; a record whose fields are its table's columns makes its list itself (`columns`).
Times are read through the driver's `time`; booleans come back as 0/1 from SQLite, hence
`bool()`; enums are built from their stored value.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, TypeVar

from pilotgate.domain import checks
from pilotgate.domain.accounts import Account
from pilotgate.domain.messages import Message

from ..base import CallbackJob, ConnectorInfo, InboundSms, Sender
from .driver import Row

Time = Callable[[Any], datetime]
T = TypeVar("T")
#: A column's value and the driver's `time` to what its field holds.
Convert = Callable[[Any, Time], Any]
#: A mapper: a row and the driver's `time` to a record.
Read = Callable[[Row, Time], T]

#: What `submit` writes; reads add the columns the pipeline fills in later.
INSERT_COLUMNS = (
    "id, packet_id, account_id, phone, sender, sender_orig, text, parts, channel, price, "
    "status, error, send_datetime, ttl, callback, callback_method, created, modified, "
    "country, operator, test, route, ping_route"
)
MESSAGE_COLUMNS = INSERT_COLUMNS + ", details, client_id"


def columns(record: type, *, without: Collection[str] = ()) -> str:
    """The column list of a record whose fields are its table's columns: the fields, in
    order, less `without`."""
    fields = dataclasses.fields(typing.cast(Any, record))
    return ", ".join(f.name for f in fields if f.name not in without)


ACCOUNT_COLUMNS = columns(Account)
SENDER_COLUMNS = columns(Sender)
INBOUND_COLUMNS = columns(InboundSms)
CALLBACK_COLUMNS = columns(CallbackJob)

#: Ids are 64-bit in both databases; a larger number names nothing, so it is simply not found.
MAX_ID = 2**63 - 1


def names(columns: str) -> list[str]:
    """The names of a column list ("a, b, c"), without a table's alias ("m.id" is "id")."""
    return [part.strip().rsplit(".", 1)[-1] for part in columns.split(",")]


def marks(columns: str) -> str:
    """One placeholder per column of the list."""
    return ", ".join(["%s"] * len(names(columns)))


def values(record: object, columns: str) -> tuple[Any, ...]:
    """The fields of `record` that the columns name, in their order: a statement's
    arguments (the fields are the columns' values as they are)."""
    return tuple(getattr(record, name) for name in names(columns))


def reader(
    record: type[T],
    columns: str,
    *,
    renamed: Mapping[str, str] | None = None,
    convert: Mapping[str, Convert] | None = None,
) -> Read[T]:
    """The mapper of rows of `columns` (a statement's list, in order) to `record`: each
    column fills the field of its name (or of `renamed[name]`), converted by the field's
    type unless `convert` names another way. Raises TypeError at once (at import) when a
    column names no field of `record`."""
    hints = typing.get_type_hints(record)
    filled = [(renamed or {}).get(column, column) for column in names(columns)]
    unknown = set(filled) - {f.name for f in dataclasses.fields(typing.cast(Any, record))}
    if unknown:
        raise TypeError(f"{record.__name__} has no field {', '.join(sorted(unknown))}")
    converting = {
        name: converter
        for name in filled
        if (converter := (convert or {}).get(name) or _converter(hints[name])) is not None
    }
    arguments = ", ".join(
        f"{name}=convert_{name}(row[{i}], time)" if name in converting else f"{name}=row[{i}]"
        for i, name in enumerate(filled)
    )
    namespace: dict[str, Any] = {"record": record}
    namespace.update((f"convert_{name}", c) for name, c in converting.items())
    # Written out the way dataclasses writes an __init__: literal keywords read a row in the
    # CPU time a mapper written by hand takes, a loop over the fields in nearly twice that
    # (docs/decisions.md). Only field names of `record`, checked above, go into the text.
    exec(f"def read(row, time):\n    return record({arguments})", namespace)  # noqa: S102
    read: Read[T] = namespace["read"]
    return read


def text_or_empty(value: str | None, time: Time) -> str:
    """A text column that may be NULL, for a field that holds '' instead."""
    return value or ""


def _converter(hint: Any) -> Convert | None:
    """How a stored value becomes a field of type `hint` (None: as it is)."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        (inner_hint,) = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _converter(inner_hint)
        if inner is None:
            return None
        return lambda value, time: None if value is None else inner(value, time)
    if hint is datetime:
        return lambda value, time: time(value)
    if hint is bool:
        return lambda value, time: bool(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        # A dict of the members, not the enum's own call: `Status(v)` costs ten times a
        # dict's lookup, and the pipeline reads every message it claims (performance.md).
        members = {member.value: member for member in hint}
        return lambda value, time: members[value] if value in members else hint(value)
    return None


account = reader(Account, ACCOUNT_COLUMNS)
message = reader(
    Message,
    MESSAGE_COLUMNS,
    renamed={"id": "server_id"},
    convert={"details": lambda value, time: checks.decode(value)},
)
sender = reader(Sender, SENDER_COLUMNS)
callback = reader(CallbackJob, CALLBACK_COLUMNS)
inbound = reader(InboundSms, INBOUND_COLUMNS)
CONNECTOR_COLUMNS = columns(ConnectorInfo)
connector = reader(ConnectorInfo, CONNECTOR_COLUMNS)
