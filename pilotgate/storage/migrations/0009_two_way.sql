-- Two-way SMS (from=2WAY): the pool of service numbers they are sent from, each serving the
-- destinations under its prefix ('' = any). A 2WAY message is a message whose sender_orig is
-- '2WAY' and whose sender is the pool number it went from: a reply from its phone to that
-- number is found through this index.
CREATE TABLE number_pool (
    number TEXT PRIMARY KEY,
    prefix TEXT NOT NULL DEFAULT ''
);
CREATE INDEX messages_two_way ON messages(sender, phone, created) WHERE sender_orig = '2WAY';
