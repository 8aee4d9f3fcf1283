-- The Strava receiver (component "activities-ingest"): SQLite's twin of
-- 0001_strava.postgres.sql.
--
-- strava_athletes links the Strava athletes who authorised podium to the
-- employees of the HR register, with their OAuth tokens (secrets: never
-- logged or printed). A deauthorisation empties the tokens and clears
-- authorized; `podium activities strava link` sets them again.
CREATE TABLE strava_athletes (
    athlete_id    INTEGER     NOT NULL PRIMARY KEY,
    employee_id   TEXT        NOT NULL,
    access_token  TEXT        NOT NULL DEFAULT '',
    refresh_token TEXT        NOT NULL DEFAULT '',
    expires_at    BIGINT      NOT NULL DEFAULT 0,  -- the access token's expiry, Unix seconds (0: none yet)
    authorized    BOOLEAN     NOT NULL,
    linked_at     TIMESTAMP   NOT NULL,
    updated_at    TIMESTAMP   NOT NULL
);

-- strava_events holds every event the webhook received, recorded before it
-- answered Strava, until the worker processed it (processed_at set, with the
-- outcome). A failed attempt sets next_attempt_at (Unix milliseconds) and
-- last_error. event_key makes a redelivered event a no-op.
CREATE TABLE strava_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    event_key       TEXT        NOT NULL UNIQUE,
    object_type     TEXT        NOT NULL,
    object_id       BIGINT      NOT NULL,
    aspect_type     TEXT        NOT NULL,
    owner_id        BIGINT      NOT NULL,
    subscription_id BIGINT      NOT NULL,
    event_time      BIGINT      NOT NULL,
    updates         TEXT        NOT NULL DEFAULT '{}',
    received_at     TIMESTAMP   NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at BIGINT      NOT NULL DEFAULT 0,
    last_error      TEXT        NOT NULL DEFAULT '',
    processed_at    TIMESTAMP  ,
    outcome         TEXT        NOT NULL DEFAULT ''
);

CREATE INDEX strava_events_pending ON strava_events (seq) WHERE processed_at IS NULL;
