"""Outbound connections that go only where the address policy (`domain.addresses`) allows:
status and inbound callbacks, relay upstreams, the debug-mail SMTP relay.

A host is resolved once per connection, every address is checked, and the connection is
made to exactly those addresses. Checking first and letting the HTTP client resolve again
was a hole (issue 12): a resolver answering a public address to the check and 127.0.0.1 to
the client sent every callback to loopback. So the check lives in the resolver the client
connects with (`outbound_http.CheckedResolver`, handed to aiohttp's connector), and a socket factory
checks every address a socket is opened to, IP literals included (aiohttp never asks a
resolver about those, e.g. a redirect's `Location`). The URL's host stays the name in the
`Host:` header and TLS SNI; only the addresses are pinned.

    policy = Policy.parse(settings.callback_allow_networks)
    session = aiohttp.ClientSession(connector=outbound_http.connector(policy), trust_env=False)
    infos = await resolve("mail.example.com", 25, policy)   # for smtplib and the like
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pilotgate.domain import addresses

#: (family, type, proto, canonname, sockaddr), as getaddrinfo gives them.
AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]


class Refused(OSError):
    """The host is, or resolves to, an address the policy forbids. Never worth retrying
    soon: the operator has not allowed it (an OSError so that clients treat it as a failed
    connection, not a crash)."""


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """The networks the operator allowed on top of the public internet."""

    allowed: tuple[addresses.Network, ...] = ()

    @classmethod
    def parse(cls, allow_list: str) -> OutboundPolicy:
        """From the comma-separated setting; ValueError on a bad entry."""
        return cls(addresses.networks(allow_list))

    def trusting(self, host: str) -> OutboundPolicy:
        """The policy for a destination the operator wrote (a relay's URL, the SMTP host):
        an IP literal there is allowed as written; a name is judged like any other."""
        return OutboundPolicy(self.allowed + addresses.written(host))

    def refusal(self, host: str, found: list[str]) -> str | None:
        return addresses.refusal(host, found, self.allowed)


async def resolve(
    host: str, port: int, policy: OutboundPolicy, family: int = socket.AF_UNSPEC
) -> list[AddrInfo]:
    """The stream addresses of `host`, all allowed by `policy`; Refused if any is not,
    ValueError for a host with no IDNA form, OSError (socket.gaierror) when the name does
    not resolve."""
    name = addresses.ascii_host(host)
    found = await asyncio.get_running_loop().getaddrinfo(
        name, port, family=family, type=socket.SOCK_STREAM
    )
    infos: list[AddrInfo] = list(found)
    why = policy.refusal(host, [str(info[4][0]) for info in infos])
    if why is not None:
        raise Refused(why)
    return infos


def socket_factory(policy: OutboundPolicy) -> Callable[[Any], socket.socket]:
    """The last gate, at the socket: no connection to a forbidden address, whatever led to
    it (a resolver's answer, or an IP literal that no resolver saw)."""

    def make(info: Any) -> socket.socket:
        family, kind, proto, _, address = info
        if addresses.forbidden(str(address[0]), policy.allowed):
            raise Refused(f"{address[0]} is a forbidden address")
        return socket.socket(family, kind, proto)

    return make


def refused(exc: BaseException) -> Refused | None:
    """The policy's refusal behind a client error, if that is what `exc` is."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, Refused):
            return seen
        # aiohttp's ClientConnectorError carries the socket's error as `os_error`.
        cause = getattr(seen, "os_error", None)
        if isinstance(cause, Refused):
            return cause
        seen = seen.__cause__ or seen.__context__
    return None
