-- The Slack notifier (component "activities-slack"): the activities whose
-- message Slack accepted, written in the transaction that records the
-- processor's positions, so that a restart never posts one twice.
CREATE TABLE notify_posted (
    activity_id BIGINT      NOT NULL PRIMARY KEY,
    posted_at   TIMESTAMPTZ NOT NULL,
    dry_run     BOOLEAN     NOT NULL  -- no webhook was configured: printed, not sent
);
