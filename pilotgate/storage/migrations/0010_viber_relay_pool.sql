-- Hybrid Viber (from=VIBERSMS, domain/hybrid.py): the SMS a message becomes when its Viber
-- attempt fails, as JSON ('' = none). Outcomes known at hand-over that fail are looked for
-- through the partial index before they are applied.
ALTER TABLE messages ADD COLUMN fallback TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_fallback_due ON messages(outcome_at) WHERE status = 1 AND fallback <> '';
-- The fallback queues a handed-over message again (1 -> 0): the customer has been told 1
-- already and hears 1 again when the SMS is handed over, so that step is not reported.
-- PostgreSQL's trigger keeps calling the function of 0002_callbacks.
-- sqlite:
DROP TRIGGER messages_status_callback;
CREATE TRIGGER messages_status_callback AFTER UPDATE OF status ON messages
WHEN NEW.status <> OLD.status AND COALESCE(NEW.callback, '') <> ''
     AND NOT (OLD.status = 1 AND NEW.status = 0)
BEGIN
    -- The gateway fixes the account's default URL into the message at send time.
    INSERT INTO callbacks (kind, account_id, ref, url, method, status, error, created, due_at)
    VALUES ('status', NEW.account_id, NEW.id, NEW.callback, COALESCE(NEW.callback_method, 'get'),
            NEW.status, NEW.error, NEW.modified, NEW.modified);
END;
-- postgres:
DROP TRIGGER messages_status_callback ON messages;
CREATE TRIGGER messages_status_callback AFTER UPDATE OF status ON messages
    FOR EACH ROW WHEN (NEW.status <> OLD.status AND COALESCE(NEW.callback, '') <> ''
                       AND NOT (OLD.status = 1 AND NEW.status = 0))
    EXECUTE FUNCTION messages_status_callback();
-- end
-- Parts still waiting for their outcome, per connector: what an HTTP relay asks its upstream
-- about (after a restart too).
CREATE INDEX message_parts_pending ON message_parts(connector, remote_id) WHERE status IS NULL;
-- Two-way SMS: a pool number may belong to one connector (the link that owns it at the
-- operator, where its replies come in); '' = any connector of the message's route.
ALTER TABLE number_pool ADD COLUMN connector TEXT NOT NULL DEFAULT '';
