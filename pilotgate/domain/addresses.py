"""Where the gateway may connect (contract §8 [ours], issue 12: callback safety), decided
without I/O. The one policy for every outbound connection to a host given by name: status
and inbound callbacks, relay upstreams and the debug-mail SMTP relay (`connectors.outbound`
resolves once, asks `refusal`, and connects only to the addresses that passed).

A customer's callback URL must not make the gateway call into the operator's own network:
loopback, private, link-local (cloud metadata at 169.254.169.254 among them), shared,
multicast, reserved and unspecified addresses are refused, unless the operator has listed
the network as allowed (tests allow 127.0.0.1 this way).

IPv6 forms through which a standard translator or tunnel delivers to an IPv4 address
(IPv4-mapped, SIIT ::ffff:0:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by that
IPv4 address: `ipaddress` calls most of them global, yet 64:ff9b::7f00:1 may well reach
127.0.0.1. Judging the embedded address, rather than refusing the ranges, keeps callbacks
working from IPv6-only hosts behind DNS64. Forms that are deprecated or whose embedded
address depends on the local network's configuration are refused outright:
IPv4-compatible ::/96 (deprecated; `::` and `::1` are in it), local-use NAT64
64:ff9b:1::/48 (its prefix length is the operator's choice), Teredo 2001::/32 (a tunnel
through a relay) and site-local fec0::/10 (deprecated).

    allowed = networks("10.9.0.0/16")
    refusal("hook.example", ["93.184.216.34"], allowed)   # None: may connect
    refusal("hook.example", ["127.0.0.1"], allowed)       # "hook.example resolves to …"
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Longest host name DNS carries (RFC 1035: 255 octets on the wire, 253 written).
MAX_HOST = 253

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIIT = ipaddress.IPv6Network("::ffff:0:0:0/96")
_REFUSED = (
    ipaddress.IPv6Network("::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("2001::/32"),
    ipaddress.IPv6Network("fec0::/10"),
)


def networks(allow_list: str) -> tuple[Network, ...]:
    """Parse the operator's comma-separated allow-list; raises ValueError on a bad entry."""
    return tuple(
        ipaddress.ip_network(entry.strip(), strict=False)
        for entry in allow_list.split(",")
        if entry.strip()
    )


def literal(host: str) -> Address | None:
    """The address when `host` is an IP literal (an IPv6 zone dropped), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


def written(host: str) -> tuple[Network, ...]:
    """The network an operator allowed by writing `host` as an IP literal in their own
    settings (a relay's `url`, `smtp_host`): there is no name to rebind, and the operator
    chose that address. Empty for a name, which goes through the policy like any other."""
    address = literal(host)
    return (ipaddress.ip_network(address),) if address is not None else ()


def _embedded(ip: Address) -> Address | None:
    """The address a connection to `ip` reaches, as far as it can be read from `ip` alone;
    None for a form that is refused outright."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in network for network in _REFUSED):
        return None
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or ip in _SIIT:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def forbidden(address: str, allowed: tuple[Network, ...] = ()) -> bool:
    """True if the gateway must not connect to `address`."""
    ip = literal(address)
    if ip is None:
        return True
    if any(ip in network for network in allowed):
        return False
    judged = _embedded(ip)
    if judged is None:
        return True
    if judged is not ip and any(judged in network for network in allowed):
        return False
    return not judged.is_global or judged.is_multicast


def refusal(host: str, addresses: Iterable[str], allowed: tuple[Network, ...] = ()) -> str | None:
    """Why `host`, resolved to `addresses`, must not be connected to, or None. One forbidden
    address refuses the host: a name that mixes public and internal answers is the shape of
    a rebinding attack, not of a customer's web server."""
    found = list(addresses)
    if not found:
        return f"{host} resolves to no address"
    bad = sorted({address for address in found if forbidden(address, allowed)})
    if not bad:
        return None
    if len(found) == 1 and literal(host) is not None:
        return f"{host} is a forbidden address"
    return f"{host} resolves to a forbidden address {', '.join(bad)}"


def ascii_host(host: str) -> str:
    """The host as it goes on the wire (DNS, `Host:`, TLS SNI): an IP literal as written, a
    name in its IDNA (punycode) form. ValueError when it has none: an empty label (`a..b`),
    a label over 63 characters, a name over 253, or characters IDNA refuses."""
    if literal(host) is not None:
        return host
    try:
        encoded = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"host {host!r} cannot be encoded: {exc}") from None
    if not encoded or len(encoded.rstrip(".")) > MAX_HOST:
        raise ValueError(f"host {host!r} cannot be encoded: empty or too long")
    return encoded
