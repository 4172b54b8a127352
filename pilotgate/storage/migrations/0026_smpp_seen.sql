-- What the console's SMPP page and /metrics show of each bound session (docs/smpp.md
-- "Seen"): the bind type and client address and bind time, written with the row; the window
-- in use and the rate (thousandths of a message per second over the last renewal interval,
-- so a whole number stays exact), written by the renewal that already runs every lease/3 s.
-- Nullable or defaulted: older nodes' inserts still work and leave them empty.
ALTER TABLE smpp_binds ADD COLUMN bind_type TEXT;
ALTER TABLE smpp_binds ADD COLUMN address TEXT;
ALTER TABLE smpp_binds ADD COLUMN since {time};
ALTER TABLE smpp_binds ADD COLUMN window_used {bigint} NOT NULL DEFAULT 0;
ALTER TABLE smpp_binds ADD COLUMN mps_milli {bigint} NOT NULL DEFAULT 0;
