"""Running PilotGate: one process, or a supervisor with N worker processes sharing one
listening socket (`pilotgate serve --workers N`).

Stop order (SIGINT or SIGTERM), in every worker:
  1. stop accepting API requests and finish the ones in flight (uvicorn drains them);
  2. stop claiming messages; the outbox finishes the batch in hand and gives back the
     leases it still holds;
  3. stop the links this process holds (SMPP: wait for the window of outstanding submits,
     take the last receipts, unbind) and give their leases back so another process binds;
  4. stop the callback worker: results already in are recorded, attempts in flight are
     abandoned and tried again later (their leases run out);
  5. send the `debug=` mails already queued (each bounded by the SMTP timeout);
  6. close the database, which everything above may still write to.
The supervisor forwards the signal to its workers and waits for them; a worker that dies
while the supervisor is not stopping is started again. It loads the numbering plan before it
forks them, so they share its pages (copy-on-write) instead of each loading its own copy.
"""

from __future__ import annotations

from pilotgate.serving.supervisor import serve

__all__ = ["serve"]
