-- The triggers of 0001 with the columns sport_activities gained (moving_s,
-- manual, trainer, commute: 0002 of the activities component).
DROP TRIGGER sport_activities_cdc_insert;
DROP TRIGGER sport_activities_cdc_update;
DROP TRIGGER sport_activities_cdc_delete;

CREATE TRIGGER sport_activities_cdc_insert AFTER INSERT ON sport_activities
BEGIN
    INSERT INTO sport_activities_changes (op, after, ts_ms)
    VALUES ('c', json_object('id', NEW.id, 'employee_id', NEW.employee_id, 'start_time', NEW.start_time, 'sport_type', NEW.sport_type, 'distance_m', NEW.distance_m, 'elapsed_s', NEW.elapsed_s, 'comment', NEW.comment, 'source', NEW.source, 'updated_at', NEW.updated_at, 'moving_s', NEW.moving_s, 'manual', NEW.manual, 'trainer', NEW.trainer, 'commute', NEW.commute),
            CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
END;

CREATE TRIGGER sport_activities_cdc_update AFTER UPDATE ON sport_activities
BEGIN
    INSERT INTO sport_activities_changes (op, before, after, ts_ms)
    VALUES ('u', json_object('id', OLD.id, 'employee_id', OLD.employee_id, 'start_time', OLD.start_time, 'sport_type', OLD.sport_type, 'distance_m', OLD.distance_m, 'elapsed_s', OLD.elapsed_s, 'comment', OLD.comment, 'source', OLD.source, 'updated_at', OLD.updated_at, 'moving_s', OLD.moving_s, 'manual', OLD.manual, 'trainer', OLD.trainer, 'commute', OLD.commute),
            json_object('id', NEW.id, 'employee_id', NEW.employee_id, 'start_time', NEW.start_time, 'sport_type', NEW.sport_type, 'distance_m', NEW.distance_m, 'elapsed_s', NEW.elapsed_s, 'comment', NEW.comment, 'source', NEW.source, 'updated_at', NEW.updated_at, 'moving_s', NEW.moving_s, 'manual', NEW.manual, 'trainer', NEW.trainer, 'commute', NEW.commute),
            CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
END;

CREATE TRIGGER sport_activities_cdc_delete AFTER DELETE ON sport_activities
BEGIN
    INSERT INTO sport_activities_changes (op, before, ts_ms)
    VALUES ('d', json_object('id', OLD.id, 'employee_id', OLD.employee_id, 'start_time', OLD.start_time, 'sport_type', OLD.sport_type, 'distance_m', OLD.distance_m, 'elapsed_s', OLD.elapsed_s, 'comment', OLD.comment, 'source', OLD.source, 'updated_at', OLD.updated_at, 'moving_s', OLD.moving_s, 'manual', OLD.manual, 'trainer', OLD.trainer, 'commute', OLD.commute),
            CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
END;
