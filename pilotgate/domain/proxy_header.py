"""The PROXY protocol's version 1 header: the one text line a TCP proxy (nginx's stream
module with `proxy_protocol on`, HAProxy) writes before the bytes it relays, naming the
client it speaks for. `PROXY TCP4 <source> <destination> <sport> <dport>\\r\\n`, at most 107
bytes; `PROXY UNKNOWN…` when the proxy does not know. Only believed from the proxies the
operator names (`smpp_proxies`): from anyone else the line is just bad SMPP.

Written here rather than taken from a library: the version 1 line is one `split`, and the
PyPI packages for it (proxy-protocol, proxyprotocol) bring their own servers and the binary
version 2, which nginx does not send.
"""

from __future__ import annotations

import ipaddress

#: The longest header the protocol allows, CR LF included.
LONGEST = 107


def source(line: bytes) -> str | None:
    """The client's address the header names, None for `PROXY UNKNOWN`. ValueError when
    the line is not a version 1 header."""
    if len(line) > LONGEST or not line.endswith(b"\r\n"):
        raise ValueError("not a PROXY header line")
    try:
        words = line[:-2].decode("ascii").split(" ")
    except UnicodeDecodeError:
        raise ValueError("a PROXY header is ASCII") from None
    if words[0] != "PROXY" or len(words) < 2:
        raise ValueError("not a PROXY header")
    if words[1] == "UNKNOWN":
        return None
    if words[1] not in ("TCP4", "TCP6") or len(words) != 6:
        raise ValueError(f"a PROXY header of {len(words)} words")
    client, server = ipaddress.ip_address(words[2]), ipaddress.ip_address(words[3])
    if {client.version, server.version} != {4 if words[1] == "TCP4" else 6}:
        raise ValueError("addresses of the wrong family")
    for port in words[4:]:
        if not (port.isdigit() and port.isascii() and 0 <= int(port) <= 65535):
            raise ValueError(f"bad port {port!r}")
    return str(client)
