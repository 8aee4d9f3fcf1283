package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"golang.org/x/sync/errgroup"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/migrations"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/store"
)

// ErrWalLevel is returned by Postgres.Run when the server's wal_level is
// not logical.
var ErrWalLevel = errors.New("PostgreSQL wal_level is not logical")

// ErrReplicaIdentity is returned by Postgres.Run when the table's changes
// cannot be captured whole: no primary key and no REPLICA IDENTITY FULL,
// or REPLICA IDENTITY NOTHING. The error says which SQL fixes it.
var ErrReplicaIdentity = errors.New("change-data-capture: the table cannot be captured")

// replIdentName names a pg_class.relreplident value as ALTER TABLE does.
func replIdentName(c string) string {
	switch c {
	case "d":
		return "DEFAULT"
	case "n":
		return "NOTHING"
	case "f":
		return "FULL"
	case "i":
		return "USING INDEX"
	}
	return c
}

// slotWait is how long a capture waits for its replication slot to be
// released by a previous capture (one that just died, say) before it gives
// up.
const slotWait = 30 * time.Second

// Postgres captures the changes of the activities table through logical
// replication: the pgoutput plugin, a publication and a replication slot
// both named Config.Slot(). The table needs REPLICA IDENTITY FULL (its
// migration sets it) for updates and deletes to carry the row before the
// change; with the default identity, before holds only the key, as with
// Debezium.
type Postgres struct {
	cfg   Config
	log   *slog.Logger
	hooks *hooks
}

// NewPostgres returns a capture of the activities table of the PostgreSQL
// store at cfg.URL.
func NewPostgres(cfg Config) (*Postgres, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(cfg.URL, "postgres://") && !strings.HasPrefix(cfg.URL, "postgresql://") {
		return nil, fmt.Errorf("change-data-capture on PostgreSQL needs the store's postgres:// URL, got %q", store.Redact(cfg.URL))
	}
	return &Postgres{cfg: cfg, log: cfg.Logger.With("capture", cfg.Slot())}, nil
}

// pgTable describes the captured table.
type pgTable struct {
	schema, name, db string
	oid              uint32
	keys             map[string]bool
	notNull          map[string]bool
	replIdent        string
}

// column describes a column of the table, of type oid.
func (t pgTable) column(name string, oid uint32) column {
	typ, cname := pgConnectType(oid)
	return column{name: name, kind: pgKind(oid), key: t.keys[name], notNull: t.notNull[name], ctype: typ, cname: cname}
}

func (t pgTable) qualified() string { return pgx.Identifier{t.schema, t.name}.Sanitize() }

// Run publishes the table's changes until ctx ends. On its first run (no
// slot yet) it creates the publication and the slot, publishes the rows
// the table holds as read ('r') events from the slot's exported snapshot,
// then streams the changes committed after that snapshot. Later runs resume
// from the slot's confirmed position, which moves only after the bus
// acknowledged the events of a transaction. A run that dies in the middle
// of the initial snapshot leaves the snapshot pending: the next run drops
// the slot and takes the snapshot again; snapshot events have ids derived
// from the row's content, so consumers drop those already seen.
func (p *Postgres) Run(ctx context.Context, b bus.Bus) error {
	err := p.run(ctx, b)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (p *Postgres) run(ctx context.Context, b bus.Bus) error {
	st, err := store.Open(ctx, p.cfg.URL)
	if err != nil {
		return fmt.Errorf("change-data-capture: %w", err)
	}
	defer st.Close()
	if err := activities.Migrate(ctx, st); err != nil {
		return fmt.Errorf("change-data-capture: %w", err)
	}
	if err := st.Migrate(ctx, Component, migrations.CDC()); err != nil {
		return fmt.Errorf("change-data-capture: %w", err)
	}

	conn, err := p.connect(ctx)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	tbl, err := inspect(ctx, conn)
	if err != nil {
		return err
	}
	if tbl.replIdent == "d" {
		p.log.Warn("the table's REPLICA IDENTITY is DEFAULT: updates and deletes will carry only the key in before; run ALTER TABLE "+
			tbl.qualified()+" REPLICA IDENTITY FULL for whole before images", "table", tbl.qualified())
	}
	if err := p.ensurePublication(ctx, conn, tbl); err != nil {
		return err
	}
	for {
		err := p.replicate(ctx, st.DB(), conn, tbl, b)
		if !errors.Is(err, errSlotLost) || ctx.Err() != nil {
			return err
		}
		// The slot was lost while streaming: the next round takes a new
		// snapshot (prepareSlot logs it).
	}
}

// errSlotLost is returned by stream when the server says the slot is gone
// or invalidated: the capture takes a new snapshot.
var errSlotLost = errors.New("replication slot lost")

// replicate opens a replication connection, prepares the slot (created
// with its snapshot, or taken again after a loss) and streams from it.
func (p *Postgres) replicate(ctx context.Context, db *sql.DB, conn *pgx.Conn, tbl pgTable, b bus.Bus) error {
	rconn, err := p.replicationConnect(ctx)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rconn.Close(cctx)
	}()
	sys, err := pglogrepl.IdentifySystem(ctx, rconn)
	if err != nil {
		return fmt.Errorf("change-data-capture: identify system: %w", err)
	}
	epoch := "pg" + sys.SystemID
	if err := p.prepareSlot(ctx, db, conn, rconn, tbl, b, epoch); err != nil {
		return err
	}
	if p.hooks != nil && p.hooks.prepared != nil {
		p.hooks.prepared()
	}
	return p.stream(ctx, db, conn, rconn, tbl, b, epoch)
}

// Drop removes what the capture keeps in the database: its replication
// slot (which otherwise holds WAL back forever), its publication and its
// state. It waits for a running capture of the slot to stop, up to 30 s.
// The next Run starts afresh, snapshot included.
func (p *Postgres) Drop(ctx context.Context) error {
	conn, err := p.connect(ctx)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	slot := p.cfg.Slot()
	if err := dropSlot(ctx, conn, slot); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{slot}.Sanitize()); err != nil {
		return fmt.Errorf("change-data-capture: drop publication %s: %w", slot, err)
	}
	if _, err := conn.Exec(ctx, `DELETE FROM podium_cdc_state WHERE name = $1`, slot); err != nil && !isCode(err, "42P01") {
		return fmt.Errorf("change-data-capture: forget the state of %s: %w", slot, err)
	}
	return nil
}

// connect opens a normal connection, in UTC so that times are read in UTC.
func (p *Postgres) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(p.cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("change-data-capture: store URL %s: %w", store.Redact(p.cfg.URL), err)
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("change-data-capture: connect to %s: %w", store.Redact(p.cfg.URL), err)
	}
	return conn, nil
}

// replicationConnect opens a logical replication connection.
func (p *Postgres) replicationConnect(ctx context.Context) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(p.cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("change-data-capture: store URL %s: %w", store.Redact(p.cfg.URL), err)
	}
	cfg.RuntimeParams["replication"] = "database"
	cfg.RuntimeParams["timezone"] = "UTC"
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("change-data-capture: open a replication connection to %s (the user needs the REPLICATION attribute): %w",
			store.Redact(p.cfg.URL), err)
	}
	return conn, nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// inspect checks wal_level and finds the activities table through the
// connection's search_path.
func inspect(ctx context.Context, conn *pgx.Conn) (pgTable, error) {
	var level string
	if err := conn.QueryRow(ctx, `SELECT current_setting('wal_level')`).Scan(&level); err != nil {
		return pgTable{}, fmt.Errorf("change-data-capture: read wal_level: %w", err)
	}
	if level != "logical" {
		return pgTable{}, fmt.Errorf("%w: it is %q; set wal_level = logical (ALTER SYSTEM SET wal_level = logical) and restart PostgreSQL", ErrWalLevel, level)
	}
	t := pgTable{keys: map[string]bool{}, notNull: map[string]bool{}}
	err := conn.QueryRow(ctx, `SELECT n.nspname, c.relname, c.oid, c.relreplident::text, current_database()
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.oid = to_regclass($1)`, activities.Table).Scan(&t.schema, &t.name, &t.oid, &t.replIdent, &t.db)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("change-data-capture: table %s not found in the search_path", activities.Table)
	}
	if err != nil {
		return t, fmt.Errorf("change-data-capture: find table %s: %w", activities.Table, err)
	}
	rows, err := conn.Query(ctx, `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = $1 AND i.indisprimary`, t.oid)
	if err != nil {
		return t, fmt.Errorf("change-data-capture: read the primary key of %s: %w", t.qualified(), err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return t, fmt.Errorf("change-data-capture: read the primary key of %s: %w", t.qualified(), err)
	}
	switch {
	case len(keys) == 0 && t.replIdent != "f":
		return t, fmt.Errorf("%w: table %s has no primary key and its REPLICA IDENTITY is %s, so its updates and deletes cannot be captured; run: ALTER TABLE %s ADD PRIMARY KEY (id); (or ALTER TABLE %s REPLICA IDENTITY FULL;)",
			ErrReplicaIdentity, t.qualified(), replIdentName(t.replIdent), t.qualified(), t.qualified())
	case t.replIdent == "n":
		return t, fmt.Errorf("%w: table %s has REPLICA IDENTITY NOTHING, so its deletes carry no key; run: ALTER TABLE %s REPLICA IDENTITY FULL;",
			ErrReplicaIdentity, t.qualified(), t.qualified())
	case len(keys) == 0:
		// REPLICA IDENTITY FULL without a primary key: events are keyed
		// by the id column, as the topic's consumers expect.
		keys = []string{"id"}
	}
	for _, k := range keys {
		t.keys[k] = true
	}
	rows, err = conn.Query(ctx, `SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND attnotnull AND NOT attisdropped`, t.oid)
	if err != nil {
		return t, fmt.Errorf("change-data-capture: read the columns of %s: %w", t.qualified(), err)
	}
	notNull, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return t, fmt.Errorf("change-data-capture: read the columns of %s: %w", t.qualified(), err)
	}
	for _, c := range notNull {
		t.notNull[c] = true
	}
	return t, nil
}

// ensurePublication creates the capture's publication for the table, or
// adds the table to it.
func (p *Postgres) ensurePublication(ctx context.Context, conn *pgx.Conn, t pgTable) error {
	pub := p.cfg.Slot()
	var exists, has bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1),
		EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND tablename = $3)`,
		pub, t.schema, t.name).Scan(&exists, &has)
	if err != nil {
		return fmt.Errorf("change-data-capture: read publication %s: %w", pub, err)
	}
	switch {
	case !exists:
		_, err = conn.Exec(ctx, "CREATE PUBLICATION "+pgx.Identifier{pub}.Sanitize()+" FOR TABLE "+t.qualified())
		if isCode(err, "42710") { // created meanwhile by another capture
			err = nil
		}
		if err == nil {
			p.log.Info("created publication", "publication", pub, "table", t.qualified())
		}
	case !has:
		_, err = conn.Exec(ctx, "ALTER PUBLICATION "+pgx.Identifier{pub}.Sanitize()+" ADD TABLE "+t.qualified())
	}
	if err != nil {
		return fmt.Errorf("change-data-capture: publication %s for %s: %w", pub, t.qualified(), err)
	}
	return nil
}

// prepareSlot creates the slot and publishes the initial snapshot, unless
// the slot exists with its snapshot complete. A slot that was lost — dropped
// while its state says it had been created, invalidated by the server
// (wal_status 'lost', beyond max_slot_wal_keep_size), or refused by
// START_REPLICATION (recorded as 'lost' by stream) — is created again and
// the table taken again: a truncate event, then every row as a read event,
// so that consumers end with the table as it is, deletes made meanwhile
// included. The loss is logged and counted once, where it is found
// (reportLoss): taking the snapshot again after an interruption is not a new
// loss.
func (p *Postgres) prepareSlot(ctx context.Context, db *sql.DB, conn *pgx.Conn, rconn *pgconn.PgConn, t pgTable, b bus.Bus, epoch string) error {
	slot := p.cfg.Slot()
	var plugin, database string
	var walStatus *string
	exists := true
	err := conn.QueryRow(ctx, `SELECT plugin, database, to_jsonb(s)->>'wal_status' FROM pg_replication_slots s WHERE slot_name = $1`,
		slot).Scan(&plugin, &database, &walStatus)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		exists = false
	case err != nil:
		return fmt.Errorf("change-data-capture: read replication slot %s: %w", slot, err)
	case plugin != "pgoutput" || database != t.db:
		return fmt.Errorf("change-data-capture: replication slot %s exists for plugin %s on database %s, not pgoutput on %s: drop it or give the capture another name",
			slot, plugin, database, t.db)
	}
	var state string
	err = db.QueryRowContext(ctx, `SELECT snapshot FROM podium_cdc_state WHERE name = $1`, slot).Scan(&state)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("change-data-capture: read the state of %s: %w", slot, err)
	}
	// again: the slot was lost, now or before (state 'lost': the loss was
	// logged when it was recorded, and the snapshot after it is not
	// complete yet).
	again := state == "lost"
	switch {
	case again:
		p.log.Info("taking a new snapshot after the loss of the replication slot", "slot", slot)
	case !exists && state == "done":
		p.reportLoss("it was dropped")
		again = true
	case exists && walStatus != nil && *walStatus == "lost":
		p.reportLoss("the server invalidated it (wal_status lost: it held more WAL than max_slot_wal_keep_size)")
		again = true
	}
	if exists && (state == "pending" || again) {
		if state == "pending" {
			p.log.Warn("the initial snapshot of the slot was interrupted: dropping the slot to take the snapshot again", "slot", slot)
		}
		if err := dropSlot(ctx, conn, slot); err != nil {
			return err
		}
		exists = false
	}
	if exists {
		p.log.Info("resuming from the replication slot", "slot", slot)
		return nil
	}

	snapshot := !p.cfg.SkipSnapshot || again
	setState := func(ctx context.Context, s string) error {
		_, err := db.ExecContext(ctx, `INSERT INTO podium_cdc_state (name, epoch, snapshot, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO UPDATE SET epoch = excluded.epoch, snapshot = excluded.snapshot, updated_at = excluded.updated_at`,
			slot, epoch, s, time.Now().UTC())
		if err != nil {
			return fmt.Errorf("change-data-capture: record the snapshot state of %s: %w", slot, err)
		}
		return nil
	}
	state = "done"
	action := "NOEXPORT_SNAPSHOT"
	if snapshot {
		state, action = "pending", "EXPORT_SNAPSHOT"
		if again {
			// Interrupted, this snapshot is taken again in full, truncate
			// event first: a lost slot is not forgotten.
			state = "lost"
		}
	}
	if err := setState(ctx, state); err != nil {
		return err
	}
	res, err := pglogrepl.CreateReplicationSlot(ctx, rconn, slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: action})
	if err != nil {
		return fmt.Errorf("change-data-capture: create replication slot %s: %w", slot, err)
	}
	lsn, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		return fmt.Errorf("change-data-capture: slot %s: consistent point: %w", slot, err)
	}
	p.log.Info("created replication slot", "slot", slot, "consistent_point", lsn)
	if !snapshot {
		return nil
	}
	if err := p.snapshot(ctx, conn, t, res.SnapshotName, lsn, b, epoch, again); err != nil {
		return err
	}
	// Published in full: recorded even if the capture is being stopped,
	// else its next start would take the snapshot again for nothing.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return setState(dctx, "done")
}

// dropSlot drops a replication slot, waiting for its consumer to stop.
func dropSlot(ctx context.Context, conn *pgx.Conn, slot string) error {
	deadline := time.Now().Add(slotWait)
	for {
		_, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, slot)
		if err == nil || isCode(err, "42704") {
			return nil
		}
		if !isCode(err, "55006") || time.Now().After(deadline) {
			return fmt.Errorf("change-data-capture: drop replication slot %s: %w", slot, err)
		}
		select { // still in use by a capture that is stopping
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitSlotFree waits until no connection uses the slot: a capture that was
// just killed keeps it until the server notices. It returns the slot's
// confirmed position.
func waitSlotFree(ctx context.Context, conn *pgx.Conn, slot string) (pglogrepl.LSN, error) {
	deadline := time.Now().Add(slotWait)
	for {
		var pid *int32
		var confirmed *string
		err := conn.QueryRow(ctx, `SELECT active_pid, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&pid, &confirmed)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("change-data-capture: replication slot %s: %w", slot, errNoSlot)
		}
		if err != nil {
			return 0, fmt.Errorf("change-data-capture: read replication slot %s: %w", slot, err)
		}
		if pid == nil {
			var lsn pglogrepl.LSN
			if confirmed != nil {
				lsn, _ = pglogrepl.ParseLSN(*confirmed)
			}
			return lsn, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("change-data-capture: replication slot %s is in use by server process %d: is another capture with this name running?", slot, *pid)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// snapshot publishes the rows of the table as read in the slot's exported
// snapshot, in key order, as 'r' events whose source.snapshot is "first",
// "true", ..., "last" (a single row: "last"), as Debezium marks them, with
// the slot's consistent point as lsn and the snapshot's xmin as txId. After
// a lost slot (again), a truncate event comes first and the events' ids
// carry the consistent point: the rows must reach consumers that saw them
// before, which would drop a re-published id. An initial snapshot's ids
// derive from the rows alone, so that consumers drop the rows an
// interrupted attempt published already.
func (p *Postgres) snapshot(ctx context.Context, conn *pgx.Conn, t pgTable, name string, lsn pglogrepl.LSN, b bus.Bus, epoch string, again bool) error {
	start := time.Now()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("change-data-capture: snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+strings.ReplaceAll(name, "'", "''")+"'"); err != nil {
		return fmt.Errorf("change-data-capture: use the slot's snapshot %s: %w", name, err)
	}
	var xmin int64
	if err := tx.QueryRow(ctx, `SELECT txid_snapshot_xmin(txid_current_snapshot())`).Scan(&xmin); err != nil {
		return fmt.Errorf("change-data-capture: snapshot: read its transaction id: %w", err)
	}
	var order []string
	for k := range t.keys {
		order = append(order, pgx.Identifier{k}.Sanitize())
	}
	slices.Sort(order)
	// The simple protocol returns values in text, as pgoutput does, so that
	// both go through the same conversions.
	rows, err := tx.Query(ctx, "SELECT * FROM "+t.qualified()+" ORDER BY "+strings.Join(order, ", "), pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return fmt.Errorf("change-data-capture: snapshot of %s: %w", t.qualified(), err)
	}
	defer rows.Close()
	cols := make([]column, len(rows.FieldDescriptions()))
	for i, fd := range rows.FieldDescriptions() {
		cols[i] = t.column(fd.Name, fd.DataTypeOID)
	}
	sch := p.cfg.newSchemas(t.schema, t.name, cols)
	l := int64(lsn)
	src := Source{Version: SourceVersion, Connector: "postgresql", Name: p.cfg.ServerName, DB: t.db,
		Schema: t.schema, Table: t.name, LSN: &l, TxID: &xmin}
	sourceTimes(&src, start)
	idPrefix := epoch + "-r-"
	if again {
		idPrefix = epoch + "-r" + strconv.FormatUint(uint64(lsn), 10) + "-"
	}

	var (
		ib    imageBuilder
		held  *image
		batch []*bus.Message
		n     int
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := publish(ctx, b, p.log, batch); err != nil {
			return err
		}
		p.hooks.afterPublish(true, len(batch))
		batch = nil
		return nil
	}
	emit := func(img *image, snap Snapshot) error {
		s := src
		s.Snapshot = snap
		h := fnv.New64a()
		_, _ = h.Write(img.key)
		k := h.Sum64()
		h.Reset()
		_, _ = h.Write(img.row)
		msgs := p.cfg.messages(rowChange{op: OpRead, after: img, schemas: sch}, s, func(int) string {
			return fmt.Sprintf("%s%016x%016x", idPrefix, k, h.Sum64())
		})
		n++
		batch = append(batch, msgs...)
		if len(batch) >= p.cfg.MaxBatch {
			return flush()
		}
		return nil
	}
	first := SnapshotFirst
	if again {
		s := src
		s.Snapshot = SnapshotFirst
		first = SnapshotTrue
		batch = p.cfg.messages(rowChange{op: OpTruncate, schemas: sch}, s, func(int) string { return idPrefix + "t" })
	}
	for rows.Next() {
		raw := rows.RawValues()
		ib.start()
		for i, v := range raw {
			from := ib.field(cols[i].name)
			if v == nil {
				ib.row = append(ib.row, "null"...)
			} else {
				ib.row = appendPGText(ib.row, cols[i].kind, v)
			}
			ib.done(cols[i], from)
		}
		img := ib.finish()
		if held != nil {
			if err := emit(held, first); err != nil {
				return err
			}
			first = SnapshotTrue
		}
		held = &img
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("change-data-capture: snapshot of %s: %w", t.qualified(), err)
	}
	if held != nil {
		if err := emit(held, SnapshotLast); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	p.log.Info("published the initial snapshot", "rows", n, "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// pgRelation is a relation announced by pgoutput.
type pgRelation struct {
	ours    bool // the captured table
	cols    []column
	schemas *schemas
}

// pgItem is what the receiver hands to the publisher: events, and the end
// of the last transaction they complete (0 when they are the first part of
// a transaction still being received).
type pgItem struct {
	msgs []*bus.Message
	end  pglogrepl.LSN
}

// pgStream is one replication session: a receiver that decodes pgoutput
// messages into events and owns the connection, and a publisher that
// publishes them and moves the acknowledged position.
type pgStream struct {
	p     *Postgres
	conn  *pgconn.PgConn
	t     pgTable
	epoch string
	out   chan pgItem

	relations  map[uint32]*pgRelation
	rows       pgRowDecoder
	ibOld      imageBuilder // of the row before a change
	ibNew      imageBuilder // of the row after a change
	inTx       bool
	xid        uint32
	commitLSN  pglogrepl.LSN // of the transaction being received
	commitTime time.Time
	idx        int    // index of the next event in the transaction
	idPrefix   string // of the message IDs of the transaction
	pending    []*bus.Message
	lastCommit pglogrepl.LSN
	handedOff  pglogrepl.LSN // end of the last transaction handed to the publisher

	heartbeat string // prefix of the capture's own heartbeat messages

	mu    sync.Mutex
	acked pglogrepl.LSN // everything before it is acknowledged by the bus
	beat  time.Time     // when the last heartbeat came back
}

// stream streams changes from the slot's confirmed position until ctx ends.
// It returns an error wrapping errSlotLost when the server no longer has
// the slot or refuses to stream from it, after recording that in the
// capture's state.
func (p *Postgres) stream(ctx context.Context, db *sql.DB, conn *pgx.Conn, rconn *pgconn.PgConn, t pgTable, b bus.Bus, epoch string) error {
	slot := p.cfg.Slot()
	confirmed, err := waitSlotFree(ctx, conn, slot)
	if errors.Is(err, errNoSlot) {
		return p.slotLost(ctx, db, err)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	args := []string{"proto_version '1'", "publication_names '" + slot + "'"}
	var version int
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&version); err != nil {
		return fmt.Errorf("change-data-capture: read the server version: %w", err)
	}
	if version >= 140000 {
		// pg_logical_emit_message's messages: op "m" events, and the
		// capture's heartbeats.
		args = append(args, "messages 'true'")
	} else {
		p.log.Warn("PostgreSQL before 14 does not stream logical decoding messages: no op m events, no heartbeat", "server_version_num", version)
	}
	err = pglogrepl.StartReplication(ctx, rconn, slot, 0, pglogrepl.StartReplicationOptions{
		Mode:       pglogrepl.LogicalReplication,
		PluginArgs: args,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		if slotGone(err) {
			return p.slotLost(ctx, db, err)
		}
		return fmt.Errorf("change-data-capture: start replication from slot %s: %w", slot, err)
	}
	p.log.Info("streaming changes", "slot", slot, "from", confirmed)
	s := &pgStream{p: p, conn: rconn, t: t, epoch: epoch, out: make(chan pgItem, 64),
		relations: map[uint32]*pgRelation{}, acked: confirmed, handedOff: confirmed,
		heartbeat: HeartbeatPrefix + slot}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.publishLoop(gctx, b) })
	g.Go(func() error { return s.receiveLoop(gctx) })
	if version >= 140000 {
		g.Go(func() error { return s.heartbeatLoop(gctx, db) })
	}
	err = g.Wait()
	// Report the last acknowledged position, so that a restart repeats
	// as little as possible; unless the connection broke: pgconn then
	// closes it in a goroutine of its own, which writes to it (a race
	// detector finding of a capture riding out a PostgreSQL restart).
	// receiveLoop marked it closed before it returned, so g.Wait orders
	// that mark before IsClosed reads it.
	if !rconn.IsClosed() {
		_ = pglogrepl.SendStandbyStatusUpdate(context.Background(), rconn, pglogrepl.StandbyStatusUpdate{WALWritePosition: s.ackedLSN()})
	}
	if ctx.Err() != nil {
		return nil
	}
	if slotGone(err) {
		return p.slotLost(ctx, db, err)
	}
	return err
}

// HeartbeatPrefix starts the prefix of the capture's heartbeat messages;
// the slot's name follows. Messages with this prefix are never published.
const HeartbeatPrefix = "podium.heartbeat."

// errNoSlot is returned by waitSlotFree when the slot does not exist.
var errNoSlot = errors.New("the replication slot does not exist")

// slotGone reports whether err is the server saying the slot is gone
// (undefined_object) or can no longer stream (object_not_in_prerequisite_state:
// "can no longer get changes from replication slot", invalidated).
func slotGone(err error) bool {
	return err != nil && (isCode(err, "42704") || isCode(err, "55000"))
}

// slotLost records that the slot is lost, so that the next preparation
// (in this run, or the next if this one ends first) takes a new snapshot,
// and logs and counts the loss.
func (p *Postgres) slotLost(ctx context.Context, db *sql.DB, cause error) error {
	slot := p.cfg.Slot()
	if _, err := db.ExecContext(ctx, `UPDATE podium_cdc_state SET snapshot = 'lost', updated_at = $2 WHERE name = $1`, slot, time.Now().UTC()); err != nil {
		return fmt.Errorf("change-data-capture: record that slot %s is lost (%v): %w", slot, cause, err)
	}
	why := "it was dropped"
	if pgErr, ok := errors.AsType[*pgconn.PgError](cause); ok && !errors.Is(cause, errNoSlot) {
		why = "the server refused to stream from it: " + pgErr.Message
		if pgErr.Detail != "" {
			why += " (" + pgErr.Detail + ")"
		}
	}
	p.reportLoss(why)
	return fmt.Errorf("%w: %s: %v", errSlotLost, slot, cause)
}

// reportLoss logs, once per loss, that the slot was lost and why, and counts
// it in podium_cdc_slot_losses_total.
func (p *Postgres) reportLoss(why string) {
	p.log.Warn("replication slot lost: taking a new snapshot (a truncate event, then every row), so that no change is lost",
		"slot", p.cfg.Slot(), "why", why)
	p.cfg.Metrics.slotLoss(p.cfg.Slot())
}

// heartbeatLoop writes a heartbeat into the WAL every HeartbeatInterval
// (a logical decoding message, not transactional: it takes no transaction
// id) on a connection of its own, reads the slot's figures into the
// metrics and records when the last heartbeat came back through the slot.
func (s *pgStream) heartbeatLoop(ctx context.Context, db *sql.DB) error {
	slot := s.p.cfg.Slot()
	conn, err := s.p.connect(ctx)
	if err != nil {
		s.p.log.Warn("change-data-capture heartbeat: no connection; the slot may hold WAL while the table is quiet", "slot", slot, "err", err)
		return nil
	}
	defer closeConn(conn)
	t := time.NewTicker(s.p.cfg.HeartbeatInterval)
	defer t.Stop()
	warned := false
	var recorded time.Time
	for {
		_, err := conn.Exec(ctx, `SELECT pg_logical_emit_message(false, $1, $2)`, s.heartbeat, time.Now().UTC().Format(time.RFC3339Nano))
		if err == nil {
			var f SlotStatus
			err = conn.QueryRow(ctx, `SELECT (pg_current_wal_lsn() - restart_lsn)::bigint, (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint
				FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&f.WALRetained, &f.Lag)
			if err == nil {
				s.p.cfg.Metrics.slotFigures(slot, f)
			}
		}
		if err != nil && ctx.Err() == nil && !warned {
			// A heartbeat is a help, not a need: the capture goes on.
			s.p.log.Warn("change-data-capture heartbeat failed; the slot may hold WAL while the table is quiet", "slot", slot, "err", err)
			warned = true
		}
		if beat := s.lastBeat(); beat.After(recorded) {
			if _, err := db.ExecContext(ctx, `UPDATE podium_cdc_state SET heartbeat_at = $2 WHERE name = $1`, slot, beat.UTC()); err == nil {
				recorded = beat
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *pgStream) lastBeat() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.beat
}

func (s *pgStream) ack(lsn pglogrepl.LSN) {
	s.mu.Lock()
	if lsn > s.acked {
		s.acked = lsn
	}
	s.mu.Unlock()
}

func (s *pgStream) ackedLSN() pglogrepl.LSN {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked
}

func (s *pgStream) sendStatus(lsn pglogrepl.LSN) error {
	if err := pglogrepl.SendStandbyStatusUpdate(context.Background(), s.conn, pglogrepl.StandbyStatusUpdate{WALWritePosition: lsn}); err != nil {
		return fmt.Errorf("change-data-capture: confirm position %s: %w", lsn, err)
	}
	return nil
}

// receiveLoop reads the replication stream. It owns the connection: it
// also reports the acknowledged position, at most every 100 ms while it
// moves and every StatusInterval otherwise, and whenever the server asks.
//
// Receives wait at most 200 ms, so that the receiver gets to report
// positions, through a read deadline on the connection rather than a
// context per receive: pgconn watches a receive's context with a
// context.AfterFunc and a channel, four allocations per message. The end
// of ctx moves the deadline to now.
func (s *pgStream) receiveLoop(ctx context.Context) error {
	const tick = 200 * time.Millisecond
	var (
		sent       pglogrepl.LSN
		lastStatus time.Time
		force      bool
	)
	nc := s.conn.Conn()
	renew := func() { _ = nc.SetReadDeadline(time.Now().Add(tick)) }
	renew()
	stop := context.AfterFunc(ctx, func() { _ = nc.SetReadDeadline(time.Now()) })
	defer func() {
		stop()
		_ = nc.SetReadDeadline(time.Time{})
	}()
	for {
		now := time.Now()
		if a := s.ackedLSN(); force || (a > sent && now.Sub(lastStatus) >= 100*time.Millisecond) || now.Sub(lastStatus) >= s.p.cfg.StatusInterval {
			if err := s.sendStatus(a); err != nil {
				return err
			}
			sent, lastStatus, force = a, now, false
		}
		if ctx.Err() != nil {
			return nil
		}
		msg, err := s.conn.ReceiveMessage(context.Background())
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if pgconn.Timeout(err) {
				renew()
				continue
			}
			return fmt.Errorf("change-data-capture: receive from replication slot %s: %w", s.p.cfg.Slot(), err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if len(m.Data) == 0 {
				continue
			}
			switch m.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
				if err != nil {
					return fmt.Errorf("change-data-capture: %w", err)
				}
				// Nothing is in flight: the server has sent everything
				// before its WAL end, so that position is confirmed too
				// (else the slot would hold WAL that other tables write).
				if !s.inTx && s.ackedLSN() >= s.handedOff {
					s.ack(ka.ServerWALEnd)
					s.handedOff = max(s.handedOff, ka.ServerWALEnd)
				}
				force = force || ka.ReplyRequested
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(m.Data[1:])
				if err != nil {
					return fmt.Errorf("change-data-capture: %w", err)
				}
				if err := s.handle(ctx, xld); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
			}
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("change-data-capture: replication slot %s: %w", s.p.cfg.Slot(), pgconn.ErrorResponseToPgError(m))
		case *pgproto3.CopyDone:
			return fmt.Errorf("change-data-capture: the server ended the replication of slot %s", s.p.cfg.Slot())
		}
	}
}

// handle decodes one pgoutput message.
func (s *pgStream) handle(ctx context.Context, xld pglogrepl.XLogData) error {
	relation := func(id uint32) (*pgRelation, error) {
		rel := s.relations[id]
		if rel == nil {
			return nil, fmt.Errorf("change-data-capture: change of relation %d before its description", id)
		}
		return rel, nil
	}
	if isRowMessage(xld.WALData) {
		m, err := s.rows.decode(xld.WALData)
		if err != nil {
			return fmt.Errorf("change-data-capture: decode pgoutput message at %s: %w", xld.WALStart, err)
		}
		rel, err := relation(m.relation)
		if err != nil || !rel.ours {
			return err
		}
		// The images are the builders' own: messages copies them into
		// the events.
		var before, after *image
		if m.old != nil {
			b := s.image(&s.ibOld, rel, m.old, nil)
			before = &b
		}
		if m.new != nil {
			a := s.image(&s.ibNew, rel, m.new, m.old)
			after = &a
		}
		op := OpCreate
		switch m.kind {
		case 'U':
			op = OpUpdate
		case 'D':
			op = OpDelete
		}
		return s.emit(ctx, rowChange{op: op, before: before, after: after, schemas: rel.schemas}, xld.WALStart)
	}
	msg, err := pglogrepl.Parse(xld.WALData)
	if err != nil {
		return fmt.Errorf("change-data-capture: decode pgoutput message at %s: %w", xld.WALStart, err)
	}
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		rel := &pgRelation{ours: m.Namespace == s.t.schema && m.RelationName == s.t.name}
		for _, c := range m.Columns {
			rel.cols = append(rel.cols, s.t.column(c.Name, c.DataType))
		}
		if rel.ours {
			rel.schemas = s.p.cfg.newSchemas(s.t.schema, s.t.name, rel.cols)
		}
		s.relations[m.RelationID] = rel
	case *pglogrepl.BeginMessage:
		s.inTx, s.xid, s.commitLSN, s.commitTime, s.idx, s.idPrefix = true, m.Xid, m.FinalLSN, m.CommitTime, 0, ""
	case *pglogrepl.TruncateMessage:
		for _, id := range m.RelationIDs {
			if rel, err := relation(id); err == nil && rel.ours {
				if err := s.emit(ctx, rowChange{op: OpTruncate, schemas: rel.schemas}, xld.WALStart); err != nil {
					return err
				}
			}
		}
	case *pglogrepl.LogicalDecodingMessage:
		return s.message(ctx, m)
	case *pglogrepl.CommitMessage:
		s.inTx = false
		s.lastCommit = m.CommitLSN
		msgs := s.pending
		s.pending = nil
		if len(msgs) == 0 && s.ackedLSN() >= s.handedOff {
			// Nothing of ours in flight or in this transaction.
			s.ack(m.TransactionEndLSN)
			s.handedOff = m.TransactionEndLSN
			return nil
		}
		return s.handOff(ctx, pgItem{msgs: msgs, end: m.TransactionEndLSN})
	}
	return nil
}

// image converts a pgoutput tuple into a row image, in ib's slices.
// Unchanged TOASTed values of an update come from the old tuple when it has
// them.
func (s *pgStream) image(ib *imageBuilder, rel *pgRelation, t, old *pgTuple) image {
	ib.start()
	for i, c := range rel.cols {
		from := ib.field(c.name)
		col := pgCol{kind: pgColNull}
		if i < len(t.cols) {
			col = t.cols[i]
		}
		if col.kind == pgColToast && old != nil && i < len(old.cols) && old.cols[i].kind == pgColText {
			col = old.cols[i]
		}
		switch col.kind {
		case pgColNull:
			ib.row = append(ib.row, "null"...)
		case pgColToast:
			ib.row = appendString(ib.row, unavailable)
		default:
			ib.row = appendPGText(ib.row, c.kind, col.data)
		}
		ib.done(c, from)
	}
	return ib.finishShared()
}

// emit turns a change into events of the current transaction. The events
// of a large transaction go to the publisher in parts of MaxBatch.
func (s *pgStream) emit(ctx context.Context, ch rowChange, lsn pglogrepl.LSN) error {
	src := Source{Version: SourceVersion, Connector: "postgresql", Name: s.p.cfg.ServerName, Snapshot: SnapshotFalse,
		DB: s.t.db, Schema: s.t.schema, Table: s.t.name}
	sourceTimes(&src, s.commitTime)
	var a [64]byte
	buf := a[:0]
	if s.lastCommit != 0 {
		buf = append(buf, `["`...)
		buf = strconv.AppendUint(buf, uint64(s.lastCommit), 10)
		buf = append(buf, `","`...)
	} else {
		buf = append(buf, `[null,"`...)
	}
	buf = strconv.AppendUint(buf, uint64(lsn), 10)
	buf = append(buf, `"]`...)
	// One allocation for the three fields the event points to.
	f := &struct {
		seq      string
		xid, lsn int64
	}{string(buf), int64(s.xid), int64(lsn)}
	src.Sequence, src.TxID, src.LSN = &f.seq, &f.xid, &f.lsn
	if s.idPrefix == "" {
		s.idPrefix = s.epoch + "-" + s.commitLSN.String() + "-"
	}
	msgs := s.p.cfg.messages(ch, src, func(n int) string {
		return string(strconv.AppendInt(append(a[:0], s.idPrefix...), int64(s.idx+n), 10))
	})
	s.idx += len(msgs)
	s.pending = append(s.pending, msgs...)
	if len(s.pending) >= s.p.cfg.MaxBatch {
		msgs := s.pending
		s.pending = nil
		return s.handOff(ctx, pgItem{msgs: msgs})
	}
	return nil
}

// handOff gives an item to the publisher. While the publisher is busy it
// keeps reporting the acknowledged position, so that the server does not
// take a slow bus for a dead client (wal_sender_timeout).
func (s *pgStream) handOff(ctx context.Context, it pgItem) error {
	select {
	case s.out <- it:
	default:
		t := time.NewTicker(time.Second)
		defer t.Stop()
	wait:
		for {
			select {
			case s.out <- it:
				break wait
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				if err := s.sendStatus(s.ackedLSN()); err != nil {
					return err
				}
			}
		}
	}
	if it.end > 0 {
		s.handedOff = it.end
	}
	return nil
}

// publishLoop publishes what the receiver hands over: everything at hand in
// one publish (up to about MaxBatch events), then moves the acknowledged
// position to the end of the last complete transaction published.
func (s *pgStream) publishLoop(ctx context.Context, b bus.Bus) error {
	for {
		var it pgItem
		select {
		case it = <-s.out:
		case <-ctx.Done():
			return nil
		}
		msgs, end := it.msgs, it.end
	drain:
		for len(msgs) < s.p.cfg.MaxBatch {
			select {
			case more := <-s.out:
				msgs = append(msgs, more.msgs...)
				if more.end > 0 {
					end = more.end
				}
			default:
				break drain
			}
		}
		if len(msgs) > 0 {
			if err := publish(ctx, b, s.p.log, msgs); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			s.p.hooks.afterPublish(false, len(msgs))
		}
		if end > 0 {
			s.ack(end)
		}
	}
}

// message handles a logical decoding message (pg_logical_emit_message).
// The capture's heartbeats move the confirmed position when nothing is in
// flight and are not published; every other message becomes an op "m"
// event keyed by its prefix, in its transaction when it is transactional,
// at once otherwise.
func (s *pgStream) message(ctx context.Context, m *pglogrepl.LogicalDecodingMessage) error {
	if strings.HasPrefix(m.Prefix, HeartbeatPrefix) {
		if m.Prefix == s.heartbeat {
			now := time.Now()
			s.mu.Lock()
			s.beat = now
			s.mu.Unlock()
			s.p.cfg.Metrics.heartbeatSeen(s.p.cfg.Slot(), float64(now.UnixNano())/1e9)
		}
		if !s.inTx && s.ackedLSN() >= s.handedOff {
			s.ack(m.LSN + 1)
			s.handedOff = max(s.handedOff, m.LSN+1)
		}
		return nil
	}
	src := Source{Version: SourceVersion, Connector: "postgresql", Name: s.p.cfg.ServerName, Snapshot: SnapshotFalse, DB: s.t.db}
	l := int64(m.LSN)
	src.LSN = &l
	if m.Transactional && s.inTx {
		xid := int64(s.xid)
		src.TxID = &xid
		sourceTimes(&src, s.commitTime)
	} else {
		sourceTimes(&src, time.Now())
	}
	msg := s.p.cfg.messageEvent(m.Prefix, m.Content, src)
	if m.Transactional && s.inTx {
		if s.idPrefix == "" {
			s.idPrefix = s.epoch + "-" + s.commitLSN.String() + "-"
		}
		msg.ID = s.idPrefix + strconv.Itoa(s.idx)
		s.idx++
		s.pending = append(s.pending, msg)
		return nil
	}
	// Not transactional: no BEGIN or COMMIT around it. Its position is
	// confirmed once the bus has it.
	msg.ID = s.epoch + "-" + m.LSN.String() + "-m"
	return s.handOff(ctx, pgItem{msgs: []*bus.Message{msg}, end: m.LSN + 1})
}

// SlotStatus describes a PostgreSQL capture's replication slot and
// publication, for `podium activities cdc status` and the metrics.
type SlotStatus struct {
	Slot, Publication string
	// Table is the captured table, schema-qualified.
	Table string
	// PublicationExists and SlotExists say whether the server has them.
	PublicationExists, SlotExists bool
	// Active says whether a capture streams from the slot now.
	Active bool
	// WALStatus is pg_replication_slots.wal_status (reserved, extended,
	// unreserved, lost).
	WALStatus string
	// RestartLSN and ConfirmedLSN are the slot's positions.
	RestartLSN, ConfirmedLSN string
	// WALRetained is pg_current_wal_lsn() - restart_lsn, Lag is
	// pg_current_wal_lsn() - confirmed_flush_lsn, in bytes.
	WALRetained, Lag *int64
	// Snapshot is the state of the slot's snapshot: pending, done, lost.
	Snapshot string
	// LastHeartbeat is when the capture last received its heartbeat back
	// through the slot; zero when never.
	LastHeartbeat time.Time
}

// Status reads the state of the capture's slot and publication.
func (p *Postgres) Status(ctx context.Context) (SlotStatus, error) {
	conn, err := p.connect(ctx)
	if err != nil {
		return SlotStatus{}, err
	}
	defer closeConn(conn)
	slot := p.cfg.Slot()
	st := SlotStatus{Slot: slot, Publication: slot}
	var tables []string
	rows, err := conn.Query(ctx, `SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1`, slot)
	if err == nil {
		tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return st, fmt.Errorf("change-data-capture: read publication %s: %w", slot, err)
	}
	st.Table = strings.Join(tables, ", ")
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)`, slot).Scan(&st.PublicationExists); err != nil {
		return st, fmt.Errorf("change-data-capture: read publication %s: %w", slot, err)
	}
	var walStatus, restart, confirmed *string
	err = conn.QueryRow(ctx, `SELECT active, to_jsonb(s)->>'wal_status', restart_lsn::text, confirmed_flush_lsn::text,
		(pg_current_wal_lsn() - restart_lsn)::bigint, (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint
		FROM pg_replication_slots s WHERE slot_name = $1`, slot).Scan(&st.Active, &walStatus, &restart, &confirmed, &st.WALRetained, &st.Lag)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return st, fmt.Errorf("change-data-capture: read replication slot %s: %w", slot, err)
	default:
		st.SlotExists = true
		st.WALStatus, st.RestartLSN, st.ConfirmedLSN = orEmpty(walStatus), orEmpty(restart), orEmpty(confirmed)
	}
	var beat *time.Time
	err = conn.QueryRow(ctx, `SELECT snapshot, heartbeat_at FROM podium_cdc_state WHERE name = $1`, slot).Scan(&st.Snapshot, &beat)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) && !isCode(err, "42P01") && !isCode(err, "42703") {
		return st, fmt.Errorf("change-data-capture: read the state of %s: %w", slot, err)
	}
	if beat != nil {
		st.LastHeartbeat = *beat
	}
	return st, nil
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
