"""Logging set-up, done once by the CLI: plain lines for people, or one JSON object per line
(`PILOTGATE_LOG_FORMAT=json`) for log collectors.

No log line of PilotGate carries request parameters: API keys and passwords never reach the
logs, and callback URLs are logged without their user:password part.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

_PLAIN = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message"} plus `server_id` and friends when a call site
    passes them through `extra=`."""

    FIELDS = ("server_id", "account_id", "connector", "status", "error", "callback_id")

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                event[name] = getattr(record, name)
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False)


def configure(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(_PLAIN))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
