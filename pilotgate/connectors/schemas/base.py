"""What the settings of every connector kind share: one frozen dataclass per kind, decoded
once from the connector row's JSON (written by `connector add`, a `[[connector]]` table of
the config file, or the console) by the field types it declares. An error names the
connector and the setting, so the operator knows what to fix:

    connector op: setting 'port' must be 1-65535
    connector up: setting 'url' is missing
    connector trunk: unknown setting 'colour'
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import json
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

from pilotgate.errors import ConfigError


class SettingsSchema:
    """Base of the settings classes (frozen, slotted, keyword-only dataclasses)."""

    __slots__ = ()

    #: Fields the connector row itself gives (its name, its rate), never its settings JSON.
    FIXED: ClassVar[frozenset[str]] = frozenset({"name"})
    #: Required text settings that may be given empty (an SMSC that wants no password).
    MAY_BE_EMPTY: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_json(cls, name: str, text: str, **context: object) -> Self:
        """Decode the connector row's JSON; `context` holds the row's own values (mps) and
        the gateway's defaults (delay, max_seconds, ...), used where the class has them."""
        try:
            raw: Any = json.loads(text or "{}")
        except ValueError as exc:
            raise ConfigError(f"connector {name}: settings are not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"connector {name}: settings must be a JSON object")
        return cls.decode(name, raw, **context)

    @classmethod
    def decode(cls, name: str, raw: Mapping[str, object], **context: object) -> Self:
        hints = typing.get_type_hints(cls)
        declared = {f.name: f for f in dataclasses.fields(typing.cast(Any, cls))}
        values: dict[str, object] = {k: v for k, v in context.items() if k in declared}
        values["name"] = name
        for key in sorted(raw):
            if key not in declared or key in cls.FIXED:
                raise ConfigError(f"connector {name}: unknown setting {key!r}")
            values[key] = _typed(name, key, hints[key], raw[key])
        for key, field in declared.items():
            required = field.default is dataclasses.MISSING and (
                field.default_factory is dataclasses.MISSING
            )
            empty = values.get(key) == "" and key not in cls.MAY_BE_EMPTY
            if required and (key not in values or empty):
                raise ConfigError(f"connector {name}: setting {key!r} is missing")
        made = cls(**values)
        problem = made.problem()
        if problem:
            raise ConfigError(f"connector {name}: {problem}")
        return made.finished()

    @classmethod
    def takes_text(cls, key: str) -> bool:
        """Whether setting `key` is text: `--set caller_id=74951230000` stays digits."""
        return typing.get_type_hints(cls).get(key) is str

    def problem(self) -> str:
        """What is wrong beyond the types (ranges, combinations), or ""."""
        return ""

    def finished(self) -> Self:
        """The settings as the connector uses them (normalised, files read)."""
        return self


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


#: Plain type → (what it accepts, what the complaint says it must be). Text also takes an
#: integer (`password = 123456` in a config file); a float also takes an integer.
_SCALARS: dict[type, tuple[Callable[[object], bool], str]] = {
    str: (lambda v: isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)), "text"),
    bool: (lambda v: isinstance(v, bool), "true or false"),
    int: (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    float: (_number, "a number"),
}


def _typed(name: str, key: str, hint: Any, value: object) -> object:
    """`value` as the type `hint` declares, or ConfigError naming the setting."""
    wrong = f"connector {name}: setting {key!r} must be"
    if hint in _SCALARS:
        accepts, what = _SCALARS[hint]
        if not accepts(value):
            raise ConfigError(f"{wrong} {what}")
        return hint(value)
    choices: tuple[object, ...] = ()
    if isinstance(hint, type) and issubclass(hint, enum.StrEnum):
        choices = tuple(member.value for member in hint)
    elif typing.get_origin(hint) is typing.Literal:
        choices = typing.get_args(hint)
    if choices:
        if value not in choices:
            raise ConfigError(f"{wrong} one of {', '.join(map(str, choices))}")
        return hint(value) if isinstance(hint, type) else value
    if typing.get_origin(hint) is collections.abc.Mapping:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ConfigError(f"{wrong} a table of names to names")
        return dict(value)
    raise TypeError(f"{key}: no decoder for {hint!r}")  # a new field type: teach _typed


def positive(settings: object, *keys: str) -> str:
    """The complaint about the first of `keys` that is not above zero, or ""."""
    for key in keys:
        if getattr(settings, key) <= 0:
            return f"setting {key!r} must be positive"
    return ""


def port_problem(settings: object, *keys: str, allow_zero: bool = False) -> str:
    """The complaint about the first of `keys` that is not a TCP/UDP port, or ""."""
    for key in keys:
        value = getattr(settings, key)
        if not (0 if allow_zero else 1) <= value <= 65535:
            return f"setting {key!r} must be {'0' if allow_zero else '1'}-65535"
    return ""
