-- activities_sport_years: per employee, year and sport, the number of
-- activities and their distance in activities_current, kept by deltas in
-- the same transaction, so that a gold row is recomputed from a few rows
-- rather than from every activity of the employee.
CREATE TABLE activities_sport_years (
    employee_id TEXT             NOT NULL,
    year        INTEGER          NOT NULL,
    sport_type  TEXT             NOT NULL,
    activities  INTEGER          NOT NULL,
    distance_m  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (employee_id, year, sport_type)
);
INSERT INTO activities_sport_years (employee_id, year, sport_type, activities, distance_m)
SELECT employee_id, local_year, sport_type, COUNT(*), SUM(distance_m)
FROM activities_current GROUP BY employee_id, local_year, sport_type;
