-- Change-data-capture of sport_activities on SQLite: triggers write every
-- insert, update and delete, with the row before and after the change as
-- JSON, into sport_activities_changes; the capture (internal/activities/cdc)
-- relays those rows to the bus in change_id order and deletes them once the
-- bus acknowledged them. SQLite runs one writer at a time, so change ids
-- follow the commit order; AUTOINCREMENT never reuses an id, even after the
-- relayed rows are deleted, so ids identify events for de-duplication.

-- State of the capture: the epoch prefixes event ids (a new database file
-- starts a new epoch), snapshot says whether the rows that existed when the
-- capture first started were queued as read ('r') events.
CREATE TABLE podium_cdc_state (
    name       TEXT      NOT NULL PRIMARY KEY,
    epoch      TEXT      NOT NULL,
    snapshot   TEXT      NOT NULL, -- 'done'
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE sport_activities_changes (
    change_id INTEGER PRIMARY KEY AUTOINCREMENT,
    op        TEXT    NOT NULL,    -- c, u, d, or r (snapshot)
    before    TEXT,                -- JSON image of the row before the change
    after     TEXT,                -- JSON image of the row after the change
    snapshot  TEXT,                -- r events: 'true', or 'last' for the last one
    ts_ms     INTEGER NOT NULL     -- when the change was made, Unix milliseconds
);

CREATE TRIGGER sport_activities_cdc_insert AFTER INSERT ON sport_activities
BEGIN
    INSERT INTO sport_activities_changes (op, after, ts_ms)
    VALUES ('c', json_object('id', NEW.id, 'employee_id', NEW.employee_id, 'start_time', NEW.start_time, 'sport_type', NEW.sport_type, 'distance_m', NEW.distance_m, 'elapsed_s', NEW.elapsed_s, 'comment', NEW.comment, 'source', NEW.source, 'updated_at', NEW.updated_at),
            CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
END;

CREATE TRIGGER sport_activities_cdc_update AFTER UPDATE ON sport_activities
BEGIN
    INSERT INTO sport_activities_changes (op, before, after, ts_ms)
    VALUES ('u', json_object('id', OLD.id, 'employee_id', OLD.employee_id, 'start_time', OLD.start_time, 'sport_type', OLD.sport_type, 'distance_m', OLD.distance_m, 'elapsed_s', OLD.elapsed_s, 'comment', OLD.comment, 'source', OLD.source, 'updated_at', OLD.updated_at),
            json_object('id', NEW.id, 'employee_id', NEW.employee_id, 'start_time', NEW.start_time, 'sport_type', NEW.sport_type, 'distance_m', NEW.distance_m, 'elapsed_s', NEW.elapsed_s, 'comment', NEW.comment, 'source', NEW.source, 'updated_at', NEW.updated_at),
            CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
END;

CREATE TRIGGER sport_activities_cdc_delete AFTER DELETE ON sport_activities
BEGIN
    INSERT INTO sport_activities_changes (op, before, ts_ms)
    VALUES ('d', json_object('id', OLD.id, 'employee_id', OLD.employee_id, 'start_time', OLD.start_time, 'sport_type', OLD.sport_type, 'distance_m', OLD.distance_m, 'elapsed_s', OLD.elapsed_s, 'comment', OLD.comment, 'source', OLD.source, 'updated_at', OLD.updated_at),
            CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
END;
