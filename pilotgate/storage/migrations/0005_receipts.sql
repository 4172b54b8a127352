-- Links that report outcomes later (SMPP): one row per part a connector took, with the id it
-- gave that part, so a delivery receipt finds its message; a message is delivered when all
-- its parts are and not delivered as soon as one part finally fails.
CREATE TABLE message_parts (
    connector TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    server_id {bigint} NOT NULL,
    part INTEGER NOT NULL,
    status INTEGER,                       -- NULL until the part's final receipt
    error INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (connector, remote_id)
);
CREATE INDEX message_parts_message ON message_parts(server_id);
-- A receipt may arrive before the hand-over that names its id is recorded (the SMSC sends
-- deliver_sm before our submit_sm_resp is processed). It waits here and is applied when the
-- hand-over is recorded; ones nobody claims are purged after a while.
CREATE TABLE early_receipts (
    connector TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    error INTEGER NOT NULL DEFAULT 0,
    received {time} NOT NULL,
    PRIMARY KEY (connector, remote_id)
);
-- Our numbers (the destination of inbound SMS) and the account each belongs to.
CREATE TABLE numbers (
    number TEXT PRIMARY KEY,
    account_id {bigint} NOT NULL REFERENCES accounts(id),
    created {time} NOT NULL
);
-- Which process holds each long-lived link (one SMPP bind per link across all processes):
-- a lease the owner renews; another process takes the link over when it runs out.
CREATE TABLE link_leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until {time} NOT NULL
);
-- Why the last attempt at a link failed, what its owner last saw, for `connector list`.
ALTER TABLE connectors ADD COLUMN state TEXT NOT NULL DEFAULT '';
