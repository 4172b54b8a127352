"""HTTP in: API-1 today; API-2 and the dashboard plug in beside it."""

from __future__ import annotations
