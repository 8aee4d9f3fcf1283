-- Exact units (issue 10, point 11): sums in integers, so that two runs of
-- the same events in other batches give byte-identical tables.
--
-- activities_sport_years.distance_m becomes whole metres: each activity's
-- distance rounded to the metre (rewards.Meters: halves to even; round on
-- numeric rounds them away from zero, corrected below), summed. The sums are recomputed from
-- activities_current rather than converted, so that they equal what a
-- clean run computes.
ALTER TABLE activities_sport_years ALTER COLUMN distance_m TYPE BIGINT USING 0;
DELETE FROM activities_sport_years;
INSERT INTO activities_sport_years (employee_id, year, sport_type, activities, distance_m)
SELECT employee_id, local_year, sport_type, COUNT(*), SUM(
    round(distance_m::numeric)
    - CASE WHEN abs(distance_m::numeric - trunc(distance_m::numeric)) = 0.5 AND mod(round(distance_m::numeric), 2) <> 0
           THEN sign(distance_m::numeric) ELSE 0 END)::bigint
FROM activities_current GROUP BY employee_id, local_year, sport_type;

-- activities_gold: distance_m (whole metres, exact) and bonus_cents (the
-- bonus in cents, exact) are what podium reads; distance_km and bonus_eur
-- derive from them for BI tools, bonus_eur now numeric(12,2).
ALTER TABLE activities_gold ADD COLUMN distance_m BIGINT NOT NULL DEFAULT 0;
ALTER TABLE activities_gold ADD COLUMN bonus_cents BIGINT NOT NULL DEFAULT 0;
UPDATE activities_gold g SET
    distance_m = COALESCE((SELECT SUM(s.distance_m) FROM activities_sport_years s
                           WHERE s.employee_id = g.employee_id AND s.year = g.year), 0),
    bonus_cents = round(g.bonus_eur::numeric * 100)::bigint;
UPDATE activities_gold SET distance_km = (distance_m::double precision) / 1000;
ALTER TABLE activities_gold ALTER COLUMN bonus_eur TYPE NUMERIC(12,2) USING (bonus_cents::numeric / 100);
ALTER TABLE activities_gold ALTER COLUMN distance_m DROP DEFAULT;
ALTER TABLE activities_gold ALTER COLUMN bonus_cents DROP DEFAULT;
