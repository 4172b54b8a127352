-- Connectors (named links of a kind, with a throughput limit shared by all processes) and
-- the routing table: prefix and channel → connectors in order of preference.
CREATE TABLE connectors (
    name text PRIMARY KEY,
    kind text NOT NULL,
    settings text NOT NULL DEFAULT '{}',  -- JSON, read by the connector kind
    enabled boolean NOT NULL DEFAULT true,
    mps integer NOT NULL DEFAULT 0,       -- messages per second, 0 = unlimited
    tokens bigint NOT NULL DEFAULT 0,     -- token bucket, in thousandths of a message
    tokens_at timestamptz,
    handed bigint NOT NULL DEFAULT 0,
    heartbeat timestamptz
);
CREATE TABLE routes (
    prefix text NOT NULL,                 -- '' matches every number
    channel text NOT NULL,
    connectors text NOT NULL,             -- comma-separated names, first healthy wins
    PRIMARY KEY (prefix, channel)
);
ALTER TABLE messages ADD COLUMN route text NOT NULL DEFAULT '';
