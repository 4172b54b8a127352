-- Number checks (HLR, PING, HLRVIP): their result fields (a JSON object, '' for none), the
-- PING leg of an HLRVIP, and the routes whose HLR answers need a PING to be believed.
ALTER TABLE messages ADD COLUMN details TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN ping_route TEXT NOT NULL DEFAULT '';
ALTER TABLE routes ADD COLUMN hlr_unreliable {bool} NOT NULL DEFAULT {false};
