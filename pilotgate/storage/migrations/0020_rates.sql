-- Per-account rates (issue 16, item 1; domain/rates.py). api_rps: API requests per second,
-- mps: messages per second leaving the queue; NULL = the operator's default, 0 = no limit.
-- Each is a token bucket kept here (tokens in thousandths, refilled from *_at), so the limit
-- holds for every process on the database. API processes take tokens in slices
-- (gateway/rates.py), not one write per request. send_next: claims leave the account's
-- messages in the queue until then (its bucket is empty), so they do not hold up others.
CREATE TABLE account_rates (
    account_id {bigint} PRIMARY KEY REFERENCES accounts(id),
    api_rps {bigint},
    mps {bigint},
    api_tokens {bigint} NOT NULL DEFAULT 0,
    api_tokens_at {time},
    send_tokens {bigint} NOT NULL DEFAULT 0,
    send_tokens_at {time},
    send_next {time}
);
