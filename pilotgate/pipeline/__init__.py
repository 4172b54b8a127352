"""The delivery pipeline: long-running workers that move messages through their statuses.
Orchestration only: SQL lives in storage, sockets in connectors."""
