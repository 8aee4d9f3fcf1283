-- Official points, the fastest lap's provenance, the reasons of the
-- classification, and the audit trail of amendments; all kept by the
-- results processor (f1-results) in the same transaction as the results.
--
-- A data dir made before this migration keeps its results as they were:
-- their points were the points the rules give (derived_points), they had no
-- official figure, and their fastest laps came from the archive (official).

-- official_points is the source's official figure (NULL when it gave none);
-- derived_points what the season's rules give for the result; points, the
-- one the standings count, is official_points when there is one, else
-- derived_points. fastest_lap_known is false while the car's points wait
-- for an official word on the fastest lap (a live source reading lap
-- times). reason is why the car retired or was disqualified, as the source
-- words it; source names the source (archive, openf1-rest, openf1-mqtt,
-- file).
ALTER TABLE f1_results ADD COLUMN official_points DOUBLE PRECISION;
ALTER TABLE f1_results ADD COLUMN derived_points DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE f1_results ADD COLUMN fastest_lap_known BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE f1_results ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE f1_results ADD COLUMN source TEXT NOT NULL DEFAULT '';
UPDATE f1_results SET derived_points = points;

-- A race is provisional while it has no official fastest lap and some of its
-- results wait for one (they carry no fastest-lap point meanwhile).
ALTER TABLE f1_sessions ADD COLUMN provisional BOOLEAN NOT NULL DEFAULT FALSE;

-- The audit trail: one row per field of a result that a later result of the
-- same car changed (a disqualification, a time penalty, a reinstatement,
-- points removed), or that such a result changed for another car of the
-- session (its place, its fastest-lap point). A result published again
-- unchanged changes nothing, so records nothing. version is f1_seasons.version
-- of the transaction that made the change: the rows of one change share it.
CREATE TABLE f1_amendments (
    season      INTEGER     NOT NULL,
    version     BIGINT      NOT NULL,
    round       INTEGER     NOT NULL,
    session     TEXT        NOT NULL,
    car_number  INTEGER     NOT NULL,
    field       TEXT        NOT NULL, -- status, position, points, fastest_lap, time, laps, reason
    old_value   TEXT,                 -- NULL for none (no position)
    new_value   TEXT,
    grand_prix  TEXT        NOT NULL,
    driver_id   TEXT        NOT NULL,
    driver_name TEXT        NOT NULL,
    amended_at  TIMESTAMPTZ NOT NULL, -- when the bus stored the amending result
    source      TEXT        NOT NULL, -- the amending result's source, '' if unnamed
    PRIMARY KEY (season, version, round, session, car_number, field)
);
CREATE INDEX f1_amendments_session ON f1_amendments (season, round, session);
