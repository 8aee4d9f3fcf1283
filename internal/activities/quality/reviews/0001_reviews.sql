-- The review decisions of held activities (component activities-review,
-- apart from activities-quality's so that a rebuild of that stage keeps
-- them). One per quarantined event, never updated: who, when, why.
CREATE TABLE activities_reviews (
    event_id    TEXT        NOT NULL PRIMARY KEY, -- the quarantined event (one decision each)
    activity_id BIGINT      NOT NULL,
    employee_id TEXT        NOT NULL,
    rule        TEXT        NOT NULL,             -- the rule that held it
    decision    TEXT        NOT NULL,             -- approved or rejected
    reason      TEXT        NOT NULL,
    decided_by  TEXT        NOT NULL,
    decided_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX activities_reviews_employee ON activities_reviews (employee_id, decided_at);

