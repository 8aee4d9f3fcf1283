-- When the PostgreSQL capture last received its heartbeat back through its
-- replication slot (pg_logical_emit_message): shown by
-- `podium activities cdc status`. Also 'lost' joins the values of snapshot:
-- a slot the server invalidated or dropped, to take again with a snapshot.
ALTER TABLE podium_cdc_state ADD COLUMN heartbeat_at TIMESTAMPTZ;
