-- A linked athlete whose authorization Strava refused (a 401 on the API, or
-- the refresh token refused at /oauth/token) is disconnected: authorized
-- false, with when and Strava's answer. Their events wait (not skipped) and
-- are processed once `podium activities strava link` re-authorizes them.
ALTER TABLE strava_athletes ADD COLUMN disconnected_at TIMESTAMPTZ;
ALTER TABLE strava_athletes ADD COLUMN disconnect_reason TEXT NOT NULL DEFAULT '';
