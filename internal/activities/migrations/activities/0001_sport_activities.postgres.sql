-- The operational table of sport activities. Three writers fill it: the
-- generator, the API and the Strava receiver (column source). Every change
-- becomes a change event on sportsdata.public.sport_activities through
-- logical replication (internal/activities/cdc). This file is PostgreSQL's;
-- 0001_sport_activities.sqlite.sql is the same table with SQLite's types.
CREATE TABLE sport_activities (
    id          BIGINT           NOT NULL PRIMARY KEY,
    employee_id TEXT             NOT NULL,
    start_time  TIMESTAMPTZ      NOT NULL,
    sport_type  TEXT             NOT NULL,
    distance_m  DOUBLE PRECISION NOT NULL DEFAULT 0,
    elapsed_s   INTEGER          NOT NULL DEFAULT 0,
    comment     TEXT             NOT NULL DEFAULT '',
    source      TEXT             NOT NULL CHECK (source IN ('generator', 'api', 'strava')),
    updated_at  TIMESTAMPTZ      NOT NULL DEFAULT now()
);

-- Updates and deletes carry the whole row before the change in the WAL, so
-- that change events have their before image (Debezium's "before").
ALTER TABLE sport_activities REPLICA IDENTITY FULL;

CREATE INDEX sport_activities_employee ON sport_activities (employee_id, start_time);
