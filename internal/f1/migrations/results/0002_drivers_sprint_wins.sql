-- The drivers of each season and the sprint wins, both kept by the results
-- processor (f1-results) from f1_results (the race_results table: one row per
-- car per race or sprint) in the same transaction as the results.
--
-- The statements after each change fill it in from the results already in
-- the store, as the processor would have: a data dir made before this
-- migration needs no rebuild.

-- Wins and podiums count Grand Prix results; sprint wins are counted apart.
ALTER TABLE f1_driver_standings ADD COLUMN sprint_wins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE f1_constructor_standings ADD COLUMN sprint_wins INTEGER NOT NULL DEFAULT 0;

UPDATE f1_driver_standings SET sprint_wins = (
    SELECT COUNT(*) FROM f1_results r
    WHERE r.season = f1_driver_standings.season AND r.round <= f1_driver_standings.round
      AND r.driver_id = f1_driver_standings.driver_id
      AND r.session = 'SPRINT' AND r.status = 'FINISHED' AND r.position = 1);
UPDATE f1_constructor_standings SET sprint_wins = (
    SELECT COUNT(*) FROM f1_results r
    WHERE r.season = f1_constructor_standings.season AND r.round <= f1_constructor_standings.round
      AND r.team_id = f1_constructor_standings.team_id
      AND r.session = 'SPRINT' AND r.status = 'FINISHED' AND r.position = 1);

-- One row per driver per season, as of the driver's latest result (the race
-- after the sprint of a weekend): car number, names, team. headshot_url is
-- the latest photo a result brought (OpenF1's results have one; the archive's
-- none).
CREATE TABLE f1_drivers (
    season       INTEGER NOT NULL,
    driver_id    TEXT    NOT NULL, -- archive id, e.g. max-verstappen
    car_number   INTEGER NOT NULL,
    driver_code  TEXT    NOT NULL, -- acronym, e.g. VER
    driver_name  TEXT    NOT NULL,
    team_id      TEXT    NOT NULL,
    team_name    TEXT    NOT NULL,
    team_colour  TEXT    NOT NULL, -- 6 hex digits, '' if unknown
    headshot_url TEXT    NOT NULL, -- '' if unknown
    last_round   INTEGER NOT NULL, -- the latest round with a result of the driver
    PRIMARY KEY (season, driver_id)
);

INSERT INTO f1_drivers (season, driver_id, car_number, driver_code, driver_name, team_id, team_name, team_colour,
    headshot_url, last_round)
SELECT l.season, l.driver_id, l.car_number, l.driver_code, l.driver_name, l.team_id, l.team_name, l.team_colour,
    COALESCE((SELECT h.headshot_url FROM f1_results h
        WHERE h.season = l.season AND h.driver_id = l.driver_id AND h.headshot_url <> ''
        ORDER BY h.round DESC, h.session ASC, h.display_order DESC, h.car_number DESC LIMIT 1), ''),
    l.round
FROM (SELECT r.season, r.driver_id, r.car_number, r.driver_code, r.driver_name, r.team_id, r.team_name,
        r.team_colour, r.round,
        ROW_NUMBER() OVER (PARTITION BY r.season, r.driver_id ORDER BY r.round DESC, r.session ASC, r.display_order DESC, r.car_number DESC) AS n
    FROM f1_results r) l
WHERE l.n = 1;
