-- Held messages (status 4, 0021_pumping), for the console's page, `held list` and the
-- /metrics gauge. On an existing `messages` table: built without blocking its writers.
CREATE INDEX {concurrently} IF NOT EXISTS messages_held ON messages(account_id, id) WHERE status = 4;
