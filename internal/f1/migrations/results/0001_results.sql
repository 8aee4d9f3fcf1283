-- The F1 results processor (f1-results) keeps one row per car per race or
-- sprint, upserted by season/round/session/car, with the points it scored,
-- and the tables derived from them, recomputed per season in the same
-- transaction. f1_results is the race_results table of the pipeline's issue;
-- 0002 adds f1_drivers and the sprint wins.

-- One row per season: the row writers of a season lock (by updating it)
-- before they change the season, so that recomputations of one season never
-- run concurrently. version grows with every change of the season.
CREATE TABLE f1_seasons (
    season     INTEGER   NOT NULL PRIMARY KEY,
    version    BIGINT    NOT NULL,
    rounds     INTEGER   NOT NULL,
    results    INTEGER   NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE f1_results (
    season        INTEGER          NOT NULL,
    round         INTEGER          NOT NULL,
    session       TEXT             NOT NULL, -- RACE or SPRINT
    car_number    INTEGER          NOT NULL,
    session_key   INTEGER          NOT NULL, -- OpenF1 session_key, 0 if unknown
    grand_prix    TEXT             NOT NULL,
    race_date     TEXT             NOT NULL, -- YYYY-MM-DD, '' if unknown
    points_scale  TEXT             NOT NULL,
    driver_id     TEXT             NOT NULL,
    driver_code   TEXT             NOT NULL,
    driver_name   TEXT             NOT NULL,
    team_id       TEXT             NOT NULL,
    team_name     TEXT             NOT NULL,
    team_colour   TEXT             NOT NULL,
    headshot_url  TEXT             NOT NULL,
    position      INTEGER,                   -- NULL when not classified
    status        TEXT             NOT NULL,
    display_order INTEGER          NOT NULL,
    laps          INTEGER          NOT NULL,
    time_text     TEXT             NOT NULL,
    grid          INTEGER,                   -- NULL for the pit lane or unknown
    fastest_lap   BOOLEAN          NOT NULL,
    cars          INTEGER          NOT NULL,
    points        DOUBLE PRECISION NOT NULL,
    updated_at    TIMESTAMPTZ      NOT NULL,
    PRIMARY KEY (season, round, session, car_number)
);
CREATE INDEX f1_results_driver ON f1_results (driver_id, season, round);

-- Navigation: the rounds and sessions that have results.
CREATE TABLE f1_rounds (
    season     INTEGER NOT NULL,
    round      INTEGER NOT NULL,
    grand_prix TEXT    NOT NULL,
    race_date  TEXT    NOT NULL,
    has_sprint BOOLEAN NOT NULL,
    PRIMARY KEY (season, round)
);

CREATE TABLE f1_sessions (
    season       INTEGER NOT NULL,
    round        INTEGER NOT NULL,
    session      TEXT    NOT NULL,
    session_key  INTEGER NOT NULL,
    points_scale TEXT    NOT NULL,
    cars         INTEGER NOT NULL, -- cars in the classification, as announced
    received     INTEGER NOT NULL, -- results received
    PRIMARY KEY (season, round, session)
);

-- The championships after each round.
CREATE TABLE f1_driver_standings (
    season       INTEGER          NOT NULL,
    round        INTEGER          NOT NULL,
    driver_id    TEXT             NOT NULL,
    position     INTEGER          NOT NULL,
    points       DOUBLE PRECISION NOT NULL,
    round_points DOUBLE PRECISION NOT NULL,
    wins         INTEGER          NOT NULL,
    podiums      INTEGER          NOT NULL,
    driver_code  TEXT             NOT NULL,
    driver_name  TEXT             NOT NULL,
    team_id      TEXT             NOT NULL,
    team_name    TEXT             NOT NULL,
    team_colour  TEXT             NOT NULL,
    PRIMARY KEY (season, round, driver_id)
);

CREATE TABLE f1_constructor_standings (
    season       INTEGER          NOT NULL,
    round        INTEGER          NOT NULL,
    team_id      TEXT             NOT NULL,
    position     INTEGER          NOT NULL,
    points       DOUBLE PRECISION NOT NULL,
    round_points DOUBLE PRECISION NOT NULL,
    wins         INTEGER          NOT NULL,
    podiums      INTEGER          NOT NULL,
    team_name    TEXT             NOT NULL,
    team_colour  TEXT             NOT NULL,
    PRIMARY KEY (season, round, team_id)
);
