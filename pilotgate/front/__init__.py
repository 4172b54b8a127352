"""The HTTP/1.1 front that carries the ASGI app: uvicorn's httptools protocol with the
defences uvicorn lacks (front/protocol.py) and the byte-level repair of request lines that
nginx accepts and llhttp does not (front/wire.py)."""

from __future__ import annotations

from .guard import Limits, connection_budget
from .protocol import protocol_class

__all__ = ["Limits", "connection_budget", "protocol_class"]
