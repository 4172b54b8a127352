-- API-2: the client's own `id` of a send item, as its JSON text ('' when it gave none), so
-- that `check` can answer it back as older API-2 answers did.
ALTER TABLE messages ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
