"""SMPP over TLS (`smpp_tls_listen`): the same customer sessions inside TLS.

SMPP 3.4 has no STARTTLS; SMSCs that offer TLS do it as a separate port where the handshake
comes first (the usual 3550 next to 2775), so a client speaking plain SMPP to that port
never gets a session: its bind is not a TLS ClientHello and the handshake fails before any
PDU is read. asyncio's `start_server(ssl=…)` does the handshake before our session task
starts, so `CustomerSession` reads decrypted bytes and knows nothing of TLS.
"""

from __future__ import annotations

import ssl

from pilotgate.errors import ConfigError

#: Seconds a connection on the TLS port has to finish its handshake (a plain client, or one
#: that says nothing, holds no session meanwhile and is closed after it).
HANDSHAKE_SECONDS = 10.0


def server_context(cert: str, key: str) -> ssl.SSLContext:
    """A server context for `cert` (PEM, the chain) and `key` (PEM); TLS 1.2 at least.

    ConfigError (naming the setting) when either is missing or unreadable, so a wrong path
    stops `serve` before any worker starts rather than at the first customer's connection.
    """
    if not cert or not key:
        raise ConfigError("smpp_tls_listen needs smpp_tls_cert and smpp_tls_key")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"smpp_tls_cert/smpp_tls_key cannot be loaded: {exc}") from exc
    return context
