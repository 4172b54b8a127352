"""/readyz's findings when the database cannot answer (api/health.py): the probe says 503 and
why, and /healthz still says alive (an orchestrator must not restart a process for that)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from pilotgate.api.health import Health
from pilotgate.errors import StorageError
from pilotgate.storage.roles import SchemaStore


class _Down(SchemaStore):
    async def pending_migrations(self) -> list[str]:
        raise StorageError("connection refused")


class _Slow(SchemaStore):
    async def pending_migrations(self) -> list[str]:
        await asyncio.Event().wait()  # never answers
        return []


def _ask(health: Health, path: str) -> tuple[int, Any]:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(health({"path": path, "method": "GET"}, send))
    return sent[0]["status"], json.loads(sent[1]["body"])


def _now() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def test_a_database_that_refuses_makes_the_process_not_ready_but_alive() -> None:
    health = Health(_Down(), _now)
    status, answer = _ask(health, "/readyz")
    assert status == 503
    assert answer["checks"] == {"database": "unreachable: connection refused"}
    assert _ask(health, "/healthz") == (200, {"status": "alive", "role": "serve"})


def test_a_database_that_does_not_answer_in_time_is_unreachable() -> None:
    status, answer = _ask(Health(_Slow(), _now), "/readyz")
    assert status == 503
    assert answer["checks"]["database"] == "unreachable: no answer in time"


def test_a_stopping_process_is_not_ready() -> None:
    class _Fine(SchemaStore):
        async def pending_migrations(self) -> list[str]:
            return []

    health = Health(_Fine(), _now)
    assert _ask(health, "/readyz")[0] == 200
    health.stopping = True
    status, answer = _ask(health, "/readyz")
    assert (status, answer["checks"]["process"]) == (503, "stopping")
