-- Status and inbound callbacks as durable jobs, written by triggers in the same transaction
-- as the change they report, so no status change can forget its callback.
ALTER TABLE accounts ADD COLUMN status_url TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN status_method TEXT NOT NULL DEFAULT 'get';
ALTER TABLE accounts ADD COLUMN inbound_url TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN callback_secret TEXT NOT NULL DEFAULT '';
-- When a message that has not reached a final status expires (-1, error 600).
ALTER TABLE messages ADD COLUMN expires_at {time};
CREATE INDEX messages_expiry ON messages(expires_at) WHERE status IN (0, 1, 3);
CREATE TABLE callbacks (
    id {serial} PRIMARY KEY,
    kind TEXT NOT NULL,              -- 'status' or 'inbound'
    account_id {bigint} NOT NULL REFERENCES accounts(id),
    ref {bigint} NOT NULL,           -- messages.id or inbound.id
    url TEXT NOT NULL,
    method TEXT NOT NULL,
    status {smallint},               -- the status being reported (kind 'status')
    error INTEGER NOT NULL DEFAULT 0,
    created {time} NOT NULL,
    due_at {time} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    done_at {time},                  -- acknowledged, or given up (failed)
    failed {bool} NOT NULL DEFAULT {false},
    lease_owner TEXT,
    lease_until {time}
);
CREATE INDEX callbacks_due ON callbacks(due_at) WHERE done_at IS NULL;
CREATE INDEX callbacks_ref ON callbacks(kind, ref, id);
-- A trigger's body is shared; SQLite writes it in the trigger, PostgreSQL in a function.
-- sqlite:
CREATE TRIGGER messages_status_callback AFTER UPDATE OF status ON messages
WHEN NEW.status <> OLD.status AND COALESCE(NEW.callback, '') <> ''
BEGIN
-- postgres:
CREATE FUNCTION messages_status_callback() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
-- end
    -- The gateway fixes the account's default URL into the message at send time.
    INSERT INTO callbacks (kind, account_id, ref, url, method, status, error, created, due_at)
    VALUES ('status', NEW.account_id, NEW.id, NEW.callback, COALESCE(NEW.callback_method, 'get'),
            NEW.status, NEW.error, NEW.modified, NEW.modified);
-- sqlite:
END;
-- postgres:
    RETURN NULL;
END $$;
CREATE TRIGGER messages_status_callback AFTER UPDATE OF status ON messages
    FOR EACH ROW WHEN (NEW.status <> OLD.status AND COALESCE(NEW.callback, '') <> '')
    EXECUTE FUNCTION messages_status_callback();
-- end
-- sqlite:
CREATE TRIGGER inbound_callback AFTER INSERT ON inbound
BEGIN
-- postgres:
CREATE FUNCTION inbound_callback() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
-- end
    INSERT INTO callbacks (kind, account_id, ref, url, method, created, due_at)
    SELECT 'inbound', NEW.account_id, NEW.id, a.inbound_url, a.status_method, NEW.created,
           NEW.created
      FROM accounts a
     WHERE a.id = NEW.account_id AND a.inbound_url <> '';
-- sqlite:
END;
-- postgres:
    RETURN NULL;
END $$;
CREATE TRIGGER inbound_callback AFTER INSERT ON inbound
    FOR EACH ROW EXECUTE FUNCTION inbound_callback();
-- end
