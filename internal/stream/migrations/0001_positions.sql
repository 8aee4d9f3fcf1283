-- Positions of each processor on each topic partition: the offset of the next
-- message to handle. Written in the same transaction as the processor's
-- effects, so they are exactly as far as the effects are.
CREATE TABLE podium_positions (
    processor   TEXT        NOT NULL,
    topic       TEXT        NOT NULL,
    part        INTEGER     NOT NULL,
    next_offset BIGINT      NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (processor, topic, part)
);
