"""argon2id's cost is a setting with a floor (docs/decisions.md, "What a password hash costs")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import argon2
import pytest

from pilotgate import bootstrap, config
from pilotgate.errors import ConfigError
from pilotgate.gateway import Passwords, PasswordSettings


def _passwords(settings: PasswordSettings | None = None) -> Passwords:
    return Passwords(cast(Any, None), lambda: datetime.now(UTC), settings)


def test_new_hashes_take_the_configured_cost_and_old_ones_still_verify():
    cheap = _passwords(PasswordSettings(hash_memory_kib=19456, hash_passes=2, hash_lanes=1))
    made = cheap.hash("correct horse")
    assert made.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    before = argon2.PasswordHasher().hash("battery staple")  # the defaults' cost
    assert cheap._hasher.verify(before, "battery staple")
    assert _passwords().hash("x" * 8).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


@pytest.mark.parametrize(
    "name", ["PILOTGATE_PASSWORD_HASH_MEMORY_KIB", "PILOTGATE_PASSWORD_HASH_PASSES"]
)
def test_a_cost_below_owasps_floor_keeps_the_gateway_from_starting(name: str):
    low = {"PILOTGATE_PASSWORD_HASH_MEMORY_KIB": "19455", "PILOTGATE_PASSWORD_HASH_PASSES": "1"}
    settings = config.load({name: low[name]}, None)
    with pytest.raises(ConfigError, match=name.removeprefix("PILOTGATE_").lower()):
        bootstrap.build_gateway(settings, cast(Any, None))
