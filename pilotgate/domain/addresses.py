"""Where callbacks may go (contract §8 [ours], issue: callback safety).

A customer's callback URL must not make the gateway call into the operator's own network:
loopback, private, link-local (cloud metadata at 169.254.169.254 among them), shared,
multicast, reserved and unspecified addresses are refused, unless the operator has listed
the network as allowed (tests allow 127.0.0.1 this way).
"""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(allow_list: str) -> tuple[Network, ...]:
    """Parse the operator's comma-separated allow-list; raises ValueError on a bad entry."""
    return tuple(
        ipaddress.ip_network(entry.strip(), strict=False)
        for entry in allow_list.split(",")
        if entry.strip()
    )


def forbidden(address: str, allowed: tuple[Network, ...] = ()) -> bool:
    """True if a callback must not connect to `address`."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    if any(ip in network for network in allowed):
        return False
    return not ip.is_global or ip.is_multicast
