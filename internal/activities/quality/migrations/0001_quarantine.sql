-- The data-quality processor (component "activities-quality"): the change
-- events of sport_activities that failed an error expectation, kept instead
-- of being forwarded to the validated topic. Written in the transaction that
-- records the processor's positions; the event id as primary key makes a
-- re-read after a crash a no-op.
CREATE TABLE activities_quarantine (
    event_id        TEXT        NOT NULL PRIMARY KEY, -- the message ID, else topic/partition@offset
    topic           TEXT        NOT NULL,
    topic_partition INTEGER     NOT NULL,
    topic_offset    BIGINT      NOT NULL,
    activity_id     BIGINT      NOT NULL,
    op              TEXT        NOT NULL,             -- c, u or r
    rule            TEXT        NOT NULL,             -- the first failing error expectation
    message         TEXT        NOT NULL,             -- "false", or the evaluation error
    failures        TEXT        NOT NULL,             -- JSON: every failing expectation with the values it read
    message_key     TEXT        NOT NULL,
    event           TEXT        NOT NULL,             -- the raw change event
    quarantined_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX activities_quarantine_rule ON activities_quarantine (rule);
CREATE INDEX activities_quarantine_activity ON activities_quarantine (activity_id);
