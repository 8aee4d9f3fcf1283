-- The operational table of sport activities: SQLite's twin of
-- 0001_sport_activities.postgres.sql. Times are TIMESTAMP so that they scan
-- into time.Time; the change-data-capture triggers are the cdc component's.
CREATE TABLE sport_activities (
    id          INTEGER   NOT NULL PRIMARY KEY,
    employee_id TEXT      NOT NULL,
    start_time  TIMESTAMP NOT NULL,
    sport_type  TEXT      NOT NULL,
    distance_m  REAL      NOT NULL DEFAULT 0,
    elapsed_s   INTEGER   NOT NULL DEFAULT 0,
    comment     TEXT      NOT NULL DEFAULT '',
    source      TEXT      NOT NULL CHECK (source IN ('generator', 'api', 'strava')),
    updated_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX sport_activities_employee ON sport_activities (employee_id, start_time);
