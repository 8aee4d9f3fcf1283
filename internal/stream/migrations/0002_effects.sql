-- The ledger of the effect stages: one row per call to an outside service
-- (a Slack message, a webhook), written in the transaction that records the
-- stage's positions, then updated as the call is made outside any
-- transaction: pending → sent, or parked with the reason. A row's key is
-- the call's idempotency key: a message read again finds its row and makes
-- no second call; a sent row is never sent again.
CREATE TABLE podium_effects (
    stage       TEXT        NOT NULL,
    call_key    TEXT        NOT NULL,
    topic       TEXT        NOT NULL,
    part        INTEGER     NOT NULL,
    src_offset  BIGINT      NOT NULL,
    body        TEXT        NOT NULL,
    state       TEXT        NOT NULL CHECK (state IN ('pending', 'sent', 'parked')),
    attempts    INTEGER     NOT NULL DEFAULT 0,
    reason      TEXT        NOT NULL DEFAULT '',
    next_try_ms BIGINT      NOT NULL,  -- Unix milliseconds: not before
    lease_owner TEXT,                  -- the deliverer making the call
    lease_ms    BIGINT      NOT NULL DEFAULT 0, -- Unix milliseconds: the lease ends
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (stage, call_key)
);

CREATE INDEX podium_effects_due ON podium_effects (stage, state, next_try_ms);
CREATE INDEX podium_effects_topic ON podium_effects (topic, state);
