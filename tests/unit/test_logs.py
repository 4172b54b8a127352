from __future__ import annotations

import json
import logging

from pilotgate.logs import JsonFormatter


def test_json_lines_carry_the_event_fields():
    record = logging.LogRecord(
        "pilotgate.callbacks", logging.INFO, __file__, 1, "callback %d failed", (7,), None
    )
    record.server_id = 10001
    record.callback_id = 7
    event = json.loads(JsonFormatter().format(record))
    assert event["message"] == "callback 7 failed"
    assert (event["level"], event["logger"]) == ("info", "pilotgate.callbacks")
    assert (event["server_id"], event["callback_id"]) == (10001, 7)
    assert event["time"].endswith("+00:00")
