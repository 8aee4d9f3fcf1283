-- What Strava's DetailedActivity says beyond distance and elapsed time, for
-- the data-quality rules (internal/activities/quality): the moving time
-- (0: unknown, as for the generator's and the API's activities), whether the
-- activity was entered by hand (manual), recorded on a training machine
-- (trainer: a home trainer, a treadmill, a virtual ride) or marked a
-- commute.
ALTER TABLE sport_activities ADD COLUMN moving_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sport_activities ADD COLUMN manual BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE sport_activities ADD COLUMN trainer BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE sport_activities ADD COLUMN commute BOOLEAN NOT NULL DEFAULT false;

-- The data-quality stage counts the sources of a batch's employees (the
-- duplicates-across-sources rule asks the store only for employees with
-- more than one): this index answers that from the index alone.
CREATE INDEX sport_activities_employee_source ON sport_activities (employee_id, source);
