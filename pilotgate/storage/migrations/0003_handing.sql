-- A claimed message is "being handed over" from the moment it is claimed until the hand-over
-- is recorded. A worker that dies in between leaves it in doubt: it is never handed over again
-- (at most once per message) and ends by expiry (-1, error 600).
ALTER TABLE messages ADD COLUMN handing {bool} NOT NULL DEFAULT {false};
