-- Exact units (issue 10, point 11): sums in integers, so that two runs of
-- the same events in other batches give byte-identical tables.
--
-- activities_sport_years.distance_m becomes whole metres: each activity's
-- distance rounded to the metre (rewards.Meters: halves to even; SQLite's
-- round rounds them away from zero, corrected below), summed. SQLite cannot change a column's type, and
-- a REAL column would store the integers as floats: the table is rebuilt,
-- its sums recomputed from activities_current as a clean run computes them.
CREATE TABLE activities_sport_years_exact (
    employee_id TEXT    NOT NULL,
    year        INTEGER NOT NULL,
    sport_type  TEXT    NOT NULL,
    activities  INTEGER NOT NULL,
    distance_m  BIGINT  NOT NULL,
    PRIMARY KEY (employee_id, year, sport_type)
);
INSERT INTO activities_sport_years_exact (employee_id, year, sport_type, activities, distance_m)
SELECT employee_id, local_year, sport_type, COUNT(*), SUM(
    CAST(round(distance_m) AS INTEGER)
    - CASE WHEN abs(distance_m - CAST(distance_m AS INTEGER)) = 0.5 AND CAST(round(distance_m) AS INTEGER) % 2 <> 0
           THEN (CASE WHEN distance_m < 0 THEN -1 ELSE 1 END) ELSE 0 END)
FROM activities_current GROUP BY employee_id, local_year, sport_type;
DROP TABLE activities_sport_years;
ALTER TABLE activities_sport_years_exact RENAME TO activities_sport_years;

-- activities_gold: distance_m (whole metres, exact) and bonus_cents (the
-- bonus in cents, exact: SQLite has no decimal type) are what podium
-- reads; distance_km and bonus_eur (REAL) derive from them for BI tools.
ALTER TABLE activities_gold ADD COLUMN distance_m BIGINT NOT NULL DEFAULT 0;
ALTER TABLE activities_gold ADD COLUMN bonus_cents BIGINT NOT NULL DEFAULT 0;
UPDATE activities_gold SET
    distance_m = COALESCE((SELECT SUM(s.distance_m) FROM activities_sport_years s
                           WHERE s.employee_id = activities_gold.employee_id AND s.year = activities_gold.year), 0),
    bonus_cents = CAST(round(bonus_eur * 100) AS INTEGER);
UPDATE activities_gold SET distance_km = distance_m / 1000.0, bonus_eur = bonus_cents / 100.0;
