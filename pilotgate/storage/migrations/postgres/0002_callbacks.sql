-- Status and inbound callbacks as durable jobs, written by triggers in the same transaction
-- as the change they report, so no status change can forget its callback.
ALTER TABLE accounts ADD COLUMN status_url text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN status_method text NOT NULL DEFAULT 'get';
ALTER TABLE accounts ADD COLUMN inbound_url text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN callback_secret text NOT NULL DEFAULT '';
-- When a message that has not reached a final status expires (-1, error 600).
ALTER TABLE messages ADD COLUMN expires_at timestamptz;
CREATE INDEX messages_expiry ON messages(expires_at) WHERE status IN (0, 1, 3);
CREATE TABLE callbacks (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,              -- 'status' or 'inbound'
    account_id bigint NOT NULL REFERENCES accounts(id),
    ref bigint NOT NULL,             -- messages.id or inbound.id
    url text NOT NULL,
    method text NOT NULL,
    status smallint,                 -- the status being reported (kind 'status')
    error integer NOT NULL DEFAULT 0,
    created timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT '',
    done_at timestamptz,             -- acknowledged, or given up (failed)
    failed boolean NOT NULL DEFAULT false,
    lease_owner text,
    lease_until timestamptz
);
CREATE INDEX callbacks_due ON callbacks(due_at) WHERE done_at IS NULL;
CREATE INDEX callbacks_ref ON callbacks(kind, ref, id);
CREATE FUNCTION messages_status_callback() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The gateway fixes the account's default URL into the message at send time.
    INSERT INTO callbacks (kind, account_id, ref, url, method, status, error, created, due_at)
    VALUES ('status', NEW.account_id, NEW.id, NEW.callback, COALESCE(NEW.callback_method, 'get'),
            NEW.status, NEW.error, NEW.modified, NEW.modified);
    RETURN NULL;
END $$;
CREATE TRIGGER messages_status_callback AFTER UPDATE OF status ON messages
    FOR EACH ROW WHEN (NEW.status <> OLD.status AND COALESCE(NEW.callback, '') <> '')
    EXECUTE FUNCTION messages_status_callback();
CREATE FUNCTION inbound_callback() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO callbacks (kind, account_id, ref, url, method, created, due_at)
    SELECT 'inbound', NEW.account_id, NEW.id, a.inbound_url, a.status_method, NEW.created,
           NEW.created
      FROM accounts a
     WHERE a.id = NEW.account_id AND a.inbound_url <> '';
    RETURN NULL;
END $$;
CREATE TRIGGER inbound_callback AFTER INSERT ON inbound
    FOR EACH ROW EXECUTE FUNCTION inbound_callback();
