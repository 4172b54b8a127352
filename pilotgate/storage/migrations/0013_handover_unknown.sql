-- Messages in doubt (claimed, hand-over never recorded: the worker died) are found by their
-- lease and end -1 with error 606 "hand-over unknown" (docs/decisions.md); both partial indexes
-- stay tiny, so the sweep and the count /metrics and the console show cost nothing.
-- Each predicate as the store's queries spell it (a plain boolean in PostgreSQL), so that
-- existing databases and new ones hold the same index.
-- sqlite:
CREATE INDEX messages_in_doubt ON messages(lease_until) WHERE status = 0 AND handing = 1;
-- postgres:
CREATE INDEX messages_in_doubt ON messages(lease_until) WHERE status = 0 AND handing;
-- end
CREATE INDEX messages_handover_unknown ON messages(id) WHERE status = -1 AND error = 606;
