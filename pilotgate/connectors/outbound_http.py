"""aiohttp's side of `outbound`: a resolver that applies the policy to every answer, and the
connector built on it and on `outbound.socket_factory`.

Apart from `outbound` so that importing the policy does not import aiohttp: the CLI's
one-shot commands build a gateway (which holds the policies) and never open a connection,
and aiohttp with its dependencies was a fifth of each command's start-up (docs/decisions.md,
"The CLI does not import the HTTP client"). Whoever opens a session imports this module then.
"""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from .outbound import OutboundPolicy, Refused, resolve, socket_factory


class CheckedResolver(AbstractResolver):
    """aiohttp's resolver, with the policy applied to every answer before it is used."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            infos = await resolve(host, port, self.policy, family)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        return [
            ResolveResult(
                hostname=host,
                host=str(address[0]),
                port=int(address[1]),
                family=found_family,
                proto=proto,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for found_family, _, proto, _, address in infos
        ]

    async def close(self) -> None:
        """Nothing to release: resolution runs in the event loop's executor."""


def connector(policy: OutboundPolicy, **options: Any) -> aiohttp.TCPConnector:
    """A TCPConnector that connects only where `policy` allows (`options` as aiohttp's)."""
    return aiohttp.TCPConnector(
        resolver=CheckedResolver(policy), socket_factory=socket_factory(policy), **options
    )
