-- Logical replication sends the new columns of sport_activities (0002 of the
-- activities component) by itself: nothing to do on PostgreSQL.
SELECT 1;
