-- The review queue (podium activities review, /activities/review): a
-- quarantined event is held until someone approves it (it is released into
-- the validated topic, so rewards and the lake count it) or rejects it.
-- status: held, approved or rejected; released_at is set once an approved
-- event was published. employee_id is the after image's, for the employee's
-- history. The decisions themselves are in activities_reviews (component
-- activities-review: a rebuild of this stage keeps them, and a rebuilt
-- quarantine row takes its status from them).
ALTER TABLE activities_quarantine ADD COLUMN employee_id TEXT NOT NULL DEFAULT '';
ALTER TABLE activities_quarantine ADD COLUMN status TEXT NOT NULL DEFAULT 'held';
ALTER TABLE activities_quarantine ADD COLUMN released_at TIMESTAMPTZ;
CREATE INDEX activities_quarantine_status ON activities_quarantine (status);
CREATE INDEX activities_quarantine_employee ON activities_quarantine (employee_id);

-- Events that failed a warning (flag) rule: forwarded and counted, and kept
-- here to be shown (the review page, the employee's history). Written in the
-- transaction of the positions; a re-read adds nothing.
CREATE TABLE activities_flags (
    event_id    TEXT        NOT NULL,
    rule        TEXT        NOT NULL,
    activity_id BIGINT      NOT NULL,
    employee_id TEXT        NOT NULL,
    message     TEXT        NOT NULL,
    vals        TEXT        NOT NULL,             -- JSON: the values the rule read
    flagged_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (event_id, rule)
);
CREATE INDEX activities_flags_employee ON activities_flags (employee_id, flagged_at);
