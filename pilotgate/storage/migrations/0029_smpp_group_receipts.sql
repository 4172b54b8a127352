-- A receipt names the id its message's submit answered with (docs/decisions.md "One id for a
-- submit_multi"): the packet's. A submit_multi's destinations are one packet named by its
-- first message, so each destination's receipt carries that one id and the ESME matches it
-- by the id and the receipt's source_addr (the destination); a submit_sm's packet is its
-- one message, whose id is unchanged. Only the receipt trigger's body changes.
-- sqlite:
-- online: a trigger's body replaced; older nodes write messages exactly as before
DROP TRIGGER messages_smpp_receipt;
CREATE TRIGGER messages_smpp_receipt AFTER UPDATE OF status ON messages
WHEN NEW.status <> OLD.status AND NEW.smpp_receipt <> 0 AND NEW.status IN (-2, -1, 2)
     AND (NEW.smpp_receipt = 1 OR (NEW.smpp_receipt = 2 AND NEW.status <> 2)
          OR (NEW.smpp_receipt = 3 AND NEW.status = 2))
BEGIN
-- postgres:
-- online: a trigger function's body replaced; older nodes write messages exactly as before
CREATE OR REPLACE FUNCTION messages_smpp_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
-- end
    INSERT INTO smpp_deliveries (account_id, kind, ref, source, destination, text, status,
                                 error, submitted, done, created, due_at)
    VALUES (NEW.account_id, 'receipt', NEW.packet_id, NEW.phone, NEW.sender,
            substr(NEW.text, 1, 20), NEW.status, NEW.error, NEW.created, NEW.modified,
            NEW.modified, NEW.modified);
-- sqlite:
END;
-- postgres:
    RETURN NULL;
END $$;
-- end
