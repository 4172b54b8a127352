-- Connectors (named links of a kind, with a throughput limit shared by all processes) and
-- the routing table: prefix and channel → connectors in order of preference.
CREATE TABLE connectors (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',  -- JSON, read by the connector kind
    enabled {bool} NOT NULL DEFAULT {true},
    mps INTEGER NOT NULL DEFAULT 0,       -- messages per second, 0 = unlimited
    tokens {bigint} NOT NULL DEFAULT 0,   -- token bucket, in thousandths of a message
    tokens_at {time},
    handed {bigint} NOT NULL DEFAULT 0,
    heartbeat {time}
);
CREATE TABLE routes (
    prefix TEXT NOT NULL,                 -- '' matches every number
    channel TEXT NOT NULL,
    connectors TEXT NOT NULL,             -- comma-separated names, first healthy wins
    PRIMARY KEY (prefix, channel)
);
ALTER TABLE messages ADD COLUMN route TEXT NOT NULL DEFAULT '';
