-- State of the change-data-capture of sport_activities on PostgreSQL, one row
-- per replication slot. The change events themselves come from the slot
-- (logical replication, pgoutput); this row only says whether the initial
-- snapshot of the slot was published completely. A slot whose snapshot is
-- still 'pending' when a capture starts was left by a capture that died in
-- the middle of its snapshot: it is dropped and created again.
CREATE TABLE podium_cdc_state (
    name       TEXT        NOT NULL PRIMARY KEY, -- the replication slot
    epoch      TEXT        NOT NULL,             -- prefix of the event ids
    snapshot   TEXT        NOT NULL,             -- 'pending' or 'done'
    updated_at TIMESTAMPTZ NOT NULL
);
