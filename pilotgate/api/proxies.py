"""The client's address and scheme behind a reverse proxy (`trusted_proxies`).

A proxy that ends TLS in front of the gateway is the peer of every connection; the client it
speaks for is in `X-Forwarded-For` (each proxy appends the address it received from) or
`X-Real-IP`. Anyone can write those headers, so they are believed only from the peers the
operator names. Then the client is the rightmost address in `X-Forwarded-For` that is not a
trusted proxy (hops to the left of it were written by the client itself and prove
nothing); without that header, `X-Real-IP`. From any other peer both are ignored.

The address found replaces the ASGI scope's `client` before anything reads it, so IP
allow-lists, login lockouts, rate limits and logs all see the same address. Likewise a trusted
proxy's `X-Forwarded-Proto` (`http` or `https`) replaces the scope's `scheme`: the cabinet's
absolute URLs and its Secure cookies follow the scheme the browser used, not the proxy's
plain-HTTP hop; from anyone else the header is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Sequence

from pilotgate.errors import ConfigError

from .asgi import Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


def parse_networks(text: str) -> tuple[Network, ...]:
    """The `trusted_proxies` setting: addresses and CIDR networks, comma-separated."""
    networks = []
    for item in text.split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ConfigError(
                    f"trusted_proxies: {item.strip()!r} is not an address or network"
                ) from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    try:
        found = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    # A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; the setting names them in v4.
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


class TrustedProxies:
    """ASGI middleware: `scope["client"]` becomes the client a trusted proxy speaks for."""

    def __init__(self, app: Asgi, networks: Sequence[Network]) -> None:
        self.app = app
        self.networks = tuple(networks)

    def trusted(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def from_proxy(self, scope: Scope) -> bool:
        """Whether the peer of this connection is a trusted proxy."""
        peer = scope.get("client")
        return bool(self.networks and peer and self.trusted(_address(str(peer[0]))))

    def scheme_of(self, scope: Scope) -> str | None:
        """`http` or `https` as a trusted proxy's `X-Forwarded-Proto` says; else None."""
        if not self.from_proxy(scope):
            return None
        said = ""
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-proto":
                # A chain of proxies appends: the last entry is the one our peer wrote.
                said = bytes(value).decode("latin-1").split(",")[-1].strip().lower()
        return said if said in ("http", "https") else None

    def client_of(self, scope: Scope) -> str | None:
        """The client's address when the peer is a trusted proxy that names one; else None
        (the peer itself is the client)."""
        if not self.from_proxy(scope):
            return None
        forwarded: list[str] = []
        real = ""
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-for":
                # Several headers are one list, in order (RFC 9110 §5.3).
                forwarded += bytes(value).decode("latin-1").split(",")
            elif name == b"x-real-ip":
                real = bytes(value).decode("latin-1")
        if forwarded:
            hops = [_address(hop) for hop in forwarded]
            chosen: Address | None = None
            for hop in reversed(hops):
                if hop is None:
                    # A hop that is no address: nothing to its left can be placed; the last
                    # trusted hop to its right (if any) is as far as we know.
                    break
                chosen = hop
                if not self.trusted(hop):
                    break
            return str(chosen) if chosen is not None else None
        found = _address(real) if real else None
        return str(found) if found is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client, scheme = self.client_of(scope), self.scheme_of(scope)
            if client is not None or scheme is not None:
                scope = dict(scope)
                if client is not None:
                    scope["client"] = (client, 0)
                if scheme is not None:
                    scope["scheme"] = scheme
        await self.app(scope, receive, send)
