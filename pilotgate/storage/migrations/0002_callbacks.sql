-- Status and inbound callbacks as durable jobs, written by triggers in the same transaction
-- as the change they report, so no status change can forget its callback.
ALTER TABLE accounts ADD COLUMN status_url TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN status_method TEXT NOT NULL DEFAULT 'get';
ALTER TABLE accounts ADD COLUMN inbound_url TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN callback_secret TEXT NOT NULL DEFAULT '';
-- When a message that has not reached a final status expires (-1, error 600).
ALTER TABLE messages ADD COLUMN expires_at INTEGER;
CREATE INDEX messages_expiry ON messages(expires_at) WHERE status IN (0, 1, 3);
CREATE TABLE callbacks (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,              -- 'status' or 'inbound'
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    ref INTEGER NOT NULL,            -- messages.id or inbound.id
    url TEXT NOT NULL,
    method TEXT NOT NULL,
    status INTEGER,                  -- the status being reported (kind 'status')
    error INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    done_at INTEGER,                 -- acknowledged, or given up (failed = 1)
    failed INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until INTEGER
);
CREATE INDEX callbacks_due ON callbacks(due_at) WHERE done_at IS NULL;
CREATE INDEX callbacks_ref ON callbacks(kind, ref, id);
CREATE TRIGGER messages_status_callback AFTER UPDATE OF status ON messages
WHEN NEW.status <> OLD.status AND COALESCE(NEW.callback, '') <> ''
BEGIN
    -- The gateway fixes the account's default URL into the message at send time.
    INSERT INTO callbacks (kind, account_id, ref, url, method, status, error, created, due_at)
    VALUES ('status', NEW.account_id, NEW.id, NEW.callback, COALESCE(NEW.callback_method, 'get'),
            NEW.status, NEW.error, NEW.modified, NEW.modified);
END;
CREATE TRIGGER inbound_callback AFTER INSERT ON inbound
BEGIN
    INSERT INTO callbacks (kind, account_id, ref, url, method, created, due_at)
    SELECT 'inbound', NEW.account_id, NEW.id, a.inbound_url, a.status_method, NEW.created,
           NEW.created
      FROM accounts a
     WHERE a.id = NEW.account_id AND a.inbound_url <> '';
END;
