-- Delivery receipts and inbound SMS back to customers' SMPP binds (docs/smpp.md "Receipts
-- and inbound SMS back over SMPP"). `smpp_receipt` is what a submit_sm's registered_delivery
-- asked for: 0 none, 1 any final status, 2 failures only, 3 delivery only (SMPP 5.0's value;
-- reserved in 3.4).
ALTER TABLE messages ADD COLUMN smpp_receipt {smallint} NOT NULL DEFAULT 0;
-- Each row is one deliver_sm still owed to an account's receiving binds, written by the
-- triggers below in the same transaction as the final status or the inbound SMS, so nothing
-- can reach its final status and forget its receipt. A row is deleted once a
-- deliver_sm_resp with status 0 came back for it.
CREATE TABLE smpp_deliveries (
    id {serial} PRIMARY KEY,
    account_id {bigint} NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL,              -- 'receipt' or 'inbound'
    ref {bigint} NOT NULL,           -- messages.id or inbound.id
    source TEXT NOT NULL,            -- the phone the receipt or SMS comes from
    destination TEXT NOT NULL,       -- the message's sender, or the number the SMS went to
    text TEXT NOT NULL,              -- the receipt's first 20 characters, or the whole SMS
    status {smallint} NOT NULL DEFAULT 0,
    error INTEGER NOT NULL DEFAULT 0,
    submitted {time} NOT NULL,       -- when the message or SMS was stored
    done {time} NOT NULL,            -- when it reached its final status
    created {time} NOT NULL,
    due_at {time} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    lease_owner TEXT,
    lease_until {time}
);
CREATE INDEX smpp_deliveries_due ON smpp_deliveries(account_id, due_at, id);
CREATE INDEX smpp_deliveries_created ON smpp_deliveries(created);
-- sqlite:
CREATE TRIGGER messages_smpp_receipt AFTER UPDATE OF status ON messages
WHEN NEW.status <> OLD.status AND NEW.smpp_receipt <> 0 AND NEW.status IN (-2, -1, 2)
     AND (NEW.smpp_receipt = 1 OR (NEW.smpp_receipt = 2 AND NEW.status <> 2)
          OR (NEW.smpp_receipt = 3 AND NEW.status = 2))
BEGIN
-- postgres:
CREATE FUNCTION messages_smpp_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
-- end
    INSERT INTO smpp_deliveries (account_id, kind, ref, source, destination, text, status,
                                 error, submitted, done, created, due_at)
    VALUES (NEW.account_id, 'receipt', NEW.id, NEW.phone, NEW.sender, substr(NEW.text, 1, 20),
            NEW.status, NEW.error, NEW.created, NEW.modified, NEW.modified, NEW.modified);
-- sqlite:
END;
-- postgres:
    RETURN NULL;
END $$;
CREATE TRIGGER messages_smpp_receipt AFTER UPDATE OF status ON messages
    FOR EACH ROW WHEN (NEW.status <> OLD.status AND NEW.smpp_receipt <> 0
                       AND NEW.status IN (-2, -1, 2)
                       AND (NEW.smpp_receipt = 1 OR (NEW.smpp_receipt = 2 AND NEW.status <> 2)
                            OR (NEW.smpp_receipt = 3 AND NEW.status = 2)))
    EXECUTE FUNCTION messages_smpp_receipt();
-- end
-- An inbound SMS goes to the SMPP binds of an account that has SMPP credentials and no
-- inbound URL: an account that set an inbound URL chose HTTP (docs/decisions.md).
-- sqlite:
CREATE TRIGGER inbound_smpp AFTER INSERT ON inbound
BEGIN
-- postgres:
CREATE FUNCTION inbound_smpp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
-- end
    INSERT INTO smpp_deliveries (account_id, kind, ref, source, destination, text,
                                 submitted, done, created, due_at)
    SELECT NEW.account_id, 'inbound', NEW.id, NEW.phone, NEW.num, NEW.text, NEW.created,
           NEW.created, NEW.created, NEW.created
      FROM accounts a JOIN smpp_credentials c ON c.account_id = a.id
     WHERE a.id = NEW.account_id AND a.inbound_url = '';
-- sqlite:
END;
-- postgres:
    RETURN NULL;
END $$;
CREATE TRIGGER inbound_smpp AFTER INSERT ON inbound
    FOR EACH ROW EXECUTE FUNCTION inbound_smpp();
-- end
