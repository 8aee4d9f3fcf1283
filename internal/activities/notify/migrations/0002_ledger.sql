-- "activities-slack" became an effect stage: the runtime's ledger
-- (podium_effects, created by the stream component's migrations, which run
-- first) records its messages. The activities posted before are recorded
-- there as sent, so that none is posted again, and notify_posted goes.
CREATE TABLE IF NOT EXISTS notify_posted (
    activity_id BIGINT      NOT NULL PRIMARY KEY,
    posted_at   TIMESTAMPTZ NOT NULL,
    dry_run     BOOLEAN     NOT NULL
);

INSERT INTO podium_effects (stage, call_key, topic, part, src_offset, body, state, attempts, reason,
    next_try_ms, lease_ms, created_at, updated_at)
SELECT 'activities-slack', 'activity/' || CAST(activity_id AS TEXT), 'sportsdata.activities.validated', 0, -1,
    '', 'sent', 1, '', 0, 0, posted_at, posted_at
FROM notify_posted
WHERE true -- SQLite needs a WHERE before ON CONFLICT in an INSERT … SELECT
ON CONFLICT (stage, call_key) DO NOTHING;

DROP TABLE notify_posted;
