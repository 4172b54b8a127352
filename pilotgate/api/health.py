"""`/healthz` and `/readyz`: what load balancers, orchestrators and service managers ask.

- `/healthz`: the process lives and its event loop answers. It reads nothing, so a database
  outage never makes an orchestrator restart healthy processes (a restart would not help).
- `/readyz`: this process can do its work now. The database answers within a second, its
  schema has every migration this release knows, and, in a process running the pipeline,
  the links it should hold are held or being taken. 503 otherwise, and while stopping, so a
  load balancer stops sending before the listener closes.

Both answer JSON to anyone, without credentials (they name no account and no traffic),
on the API port and on the `metrics_listen` listener (where a `worker` answers them).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from pilotgate.errors import GatewayError
from pilotgate.storage.roles import SchemaStore

from .asgi import Scope, Send

if TYPE_CHECKING:
    from pilotgate.pipeline.links import LinkKeeper

PATHS = ("/healthz", "/readyz")
#: A database slower than this to answer one small SELECT is not ready for traffic either.
DATABASE_TIMEOUT = 1.0


class Health:
    """The probes of one process: the schema role of its store (nothing else of it), and its
    link keeper when it runs the pipeline."""

    def __init__(
        self,
        schema: SchemaStore,
        clock: Callable[[], datetime],
        keeper: LinkKeeper | None = None,
        role: str = "serve",
    ) -> None:
        self.schema = schema
        self.clock = clock
        self.keeper = keeper
        self.role = role
        self.stopping = False

    async def ready(self) -> tuple[bool, dict[str, object]]:
        """Whether this process is ready, and each check's finding."""
        checks: dict[str, object] = {}
        ready = not self.stopping
        if self.stopping:
            checks["process"] = "stopping"
        try:
            pending = await asyncio.wait_for(self.schema.pending_migrations(), DATABASE_TIMEOUT)
        except (GatewayError, TimeoutError) as exc:
            checks["database"] = f"unreachable: {str(exc) or 'no answer in time'}"
            ready = False
        else:
            checks["database"] = "ok"
            checks["schema"] = "current" if not pending else {"pending": pending}
            ready = ready and not pending
        if self.keeper is not None:
            links_ready, checks["links"] = self.keeper.readiness(self.clock())
            ready = ready and links_ready
        return ready, checks

    async def __call__(self, scope: Scope, send: Send) -> None:
        """Answer a GET or HEAD of one of `PATHS`."""
        answer: dict[str, object]
        if scope["path"] == "/healthz":
            status, answer = 200, {"status": "alive", "role": self.role}
        else:
            ready, checks = await self.ready()
            status = 200 if ready else 503
            answer = {
                "status": "ready" if ready else "not ready",
                "role": self.role,
                "checks": checks,
            }
        body = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        head = scope["method"] == "HEAD"
        await send({"type": "http.response.body", "body": b"" if head else body})
