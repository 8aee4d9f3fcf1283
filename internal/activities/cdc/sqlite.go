package cdc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/migrations"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/store"
)

// ChangesTable is the SQLite table the capture's triggers write changes to.
const ChangesTable = "sport_activities_changes"

// trimEvery is how often the SQLite capture deletes relayed changes: each
// delete is a write transaction, competing with the table's writers.
const trimEvery = 100 * time.Millisecond

// SQLite captures the changes of the activities table of a SQLite store:
// triggers (installed by the capture's migration) write each change with
// the row before and after it into ChangesTable; the capture publishes
// them in change id order and deletes them once the bus acknowledged them.
// One capture per store: the change table is shared.
type SQLite struct {
	s     *store.Store
	cfg   Config
	log   *slog.Logger
	hooks *hooks
}

// NewSQLite returns a capture of the activities table of SQLite store s.
func NewSQLite(s *store.Store, cfg Config) (*SQLite, error) {
	if s.Dialect() != store.SQLite {
		return nil, fmt.Errorf("change-data-capture: NewSQLite needs a SQLite store, not %s", s.Dialect())
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &SQLite{s: s, cfg: cfg, log: cfg.Logger.With("capture", cfg.Name)}, nil
}

// sqliteChange is one row of ChangesTable.
type sqliteChange struct {
	id            int64
	op            Op
	before, after sql.NullString
	snapshot      sql.NullString
	tsMs          int64
}

// Run publishes the table's changes until ctx ends. On its first run it
// installs the triggers and, in one transaction, queues the rows the table
// holds as read ('r') events, replacing any change queued before: the
// snapshot holds them. Changes are polled every PollInterval while there
// are none, and read again at once while there are.
func (c *SQLite) Run(ctx context.Context, b bus.Bus) error {
	err := c.run(ctx, b)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (c *SQLite) run(ctx context.Context, b bus.Bus) error {
	if err := activities.Migrate(ctx, c.s); err != nil {
		return fmt.Errorf("change-data-capture: %w", err)
	}
	if err := c.s.Migrate(ctx, Component, migrations.CDC()); err != nil {
		return fmt.Errorf("change-data-capture: %w", err)
	}
	cols, err := c.columns(ctx)
	if err != nil {
		return err
	}
	sch := c.cfg.newSchemas("main", activities.Table, cols)
	epoch, err := c.start(ctx, cols)
	if err != nil {
		return err
	}
	// A reader reads and converts changes while a publisher publishes the
	// previous batch; a trimmer deletes what the bus acknowledged.
	batches := make(chan sqliteBatch, 2)
	var acked atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.readLoop(gctx, cols, sch, epoch, batches) })
	g.Go(func() error { return c.publishLoop(gctx, b, batches, &acked) })
	g.Go(func() error { return c.trimLoop(gctx, &acked) })
	return g.Wait()
}

// sqliteBatch is a batch of changes converted to messages.
type sqliteBatch struct {
	msgs     []*bus.Message
	last     int64 // change id of the last change
	snapshot bool  // holds snapshot events
}

// readLoop reads the changes in order and hands them over as messages.
func (c *SQLite) readLoop(ctx context.Context, cols []column, sch *schemas, epoch string, out chan<- sqliteBatch) error {
	var last int64
	wait := time.NewTimer(0)
	defer wait.Stop()
	<-wait.C
	for {
		changes, err := c.read(ctx, last)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			wait.Reset(c.cfg.PollInterval)
			select {
			case <-ctx.Done():
				return nil
			case <-wait.C:
			}
			continue
		}
		msgs, snapshot, err := c.messages(changes, cols, sch, epoch)
		if err != nil {
			return err
		}
		last = changes[len(changes)-1].id
		select {
		case out <- sqliteBatch{msgs: msgs, last: last, snapshot: snapshot}:
		case <-ctx.Done():
			return nil
		}
	}
}

// publishLoop publishes the batches and records what the bus acknowledged.
func (c *SQLite) publishLoop(ctx context.Context, b bus.Bus, in <-chan sqliteBatch, acked *atomic.Int64) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch := <-in:
			if err := publish(ctx, b, c.log, batch.msgs); err != nil {
				return err
			}
			c.hooks.afterPublish(batch.snapshot, len(batch.msgs))
			acked.Store(batch.last)
		}
	}
}

// trimLoop deletes the acknowledged changes every trimEvery. It runs apart
// from the publisher: a delete waits for SQLite's write lock, which busy
// writers may hold for a while, and must not hold up the events.
func (c *SQLite) trimLoop(ctx context.Context, acked *atomic.Int64) error {
	var trimmed int64
	t := time.NewTicker(trimEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if last := acked.Load(); last > trimmed {
				// Trimming is clean-up: a delete that waited too long for
				// the write lock (busy writers) is tried again at the next
				// tick; the events themselves do not wait for it.
				if err := c.trim(ctx, last); err != nil {
					c.log.Warn("change-data-capture: trim the relayed changes later", "err", err)
					continue
				}
				trimmed = last
			}
		}
	}
}

// columns reads the table's columns: names, kinds from the declared types,
// the primary key.
func (c *SQLite) columns(ctx context.Context) ([]column, error) {
	rows, err := c.s.DB().QueryContext(ctx, `SELECT name, type, "notnull", pk FROM pragma_table_info($1)`, activities.Table)
	if err != nil {
		return nil, fmt.Errorf("change-data-capture: read the columns of %s: %w", activities.Table, err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var name, typ string
		var notNull, pk int
		if err := rows.Scan(&name, &typ, &notNull, &pk); err != nil {
			return nil, fmt.Errorf("change-data-capture: read the columns of %s: %w", activities.Table, err)
		}
		k := sqliteKind(typ)
		ctype, cname := sqliteConnectType(k)
		cols = append(cols, column{name: name, kind: k, key: pk > 0, notNull: notNull != 0 || pk > 0, ctype: ctype, cname: cname})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("change-data-capture: read the columns of %s: %w", activities.Table, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("change-data-capture: table %s not found", activities.Table)
	}
	if !slices.ContainsFunc(cols, func(c column) bool { return c.key }) {
		return nil, fmt.Errorf("%w: table %s has no primary key, so its changes cannot be keyed; SQLite cannot add one in place: "+
			"recreate it with id INTEGER PRIMARY KEY (CREATE TABLE new (... id INTEGER PRIMARY KEY ...); INSERT INTO new SELECT * FROM %s; DROP TABLE %s; ALTER TABLE new RENAME TO %s;)",
			ErrReplicaIdentity, activities.Table, activities.Table, activities.Table, activities.Table)
	}
	return cols, nil
}

// start returns the capture's epoch. On the first run it creates it and
// queues the snapshot, in one write transaction: no writer can slip a change
// between the snapshot and the changes after it.
func (c *SQLite) start(ctx context.Context, cols []column) (string, error) {
	var epoch string
	err := c.s.InTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT epoch FROM podium_cdc_state WHERE name = $1`, c.cfg.Name).Scan(&epoch)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var r [6]byte
		_, _ = rand.Read(r[:])
		epoch = "sq" + hex.EncodeToString(r[:])
		if !c.cfg.SkipSnapshot {
			var fields []string
			for _, col := range cols {
				fields = append(fields, "'"+strings.ReplaceAll(col.name, "'", "''")+"', "+quoteIdent(col.name))
			}
			stmts := []string{
				`DELETE FROM ` + ChangesTable,
				`INSERT INTO ` + ChangesTable + ` (op, after, snapshot, ts_ms)
				 SELECT 'r', json_object(` + strings.Join(fields, ", ") + `), 'true',
				        CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)
				 FROM ` + activities.Table + ` ORDER BY id`,
				`UPDATE ` + ChangesTable + ` SET snapshot = 'last' WHERE change_id = (SELECT MAX(change_id) FROM ` + ChangesTable + `)`,
				`UPDATE ` + ChangesTable + ` SET snapshot = 'first' WHERE snapshot = 'true' AND change_id = (SELECT MIN(change_id) FROM ` + ChangesTable + `)`,
			}
			for _, q := range stmts {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("snapshot of %s: %w", activities.Table, err)
				}
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO podium_cdc_state (name, epoch, snapshot, updated_at) VALUES ($1, $2, 'done', $3)`,
			c.cfg.Name, epoch, time.Now().UTC())
		if err == nil {
			c.log.Info("change-data-capture started: snapshot queued", "epoch", epoch, "snapshot", !c.cfg.SkipSnapshot)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("change-data-capture: start: %w", err)
	}
	return epoch, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// read returns up to MaxBatch changes after change id last, in order.
func (c *SQLite) read(ctx context.Context, last int64) ([]sqliteChange, error) {
	rows, err := c.s.DB().QueryContext(ctx, `SELECT change_id, op, before, after, snapshot, ts_ms FROM `+ChangesTable+`
		WHERE change_id > $1 ORDER BY change_id LIMIT $2`, last, c.cfg.MaxBatch)
	if err != nil {
		return nil, fmt.Errorf("change-data-capture: read changes: %w", err)
	}
	defer rows.Close()
	var out []sqliteChange
	for rows.Next() {
		var ch sqliteChange
		var op string
		if err := rows.Scan(&ch.id, &op, &ch.before, &ch.after, &ch.snapshot, &ch.tsMs); err != nil {
			return nil, fmt.Errorf("change-data-capture: read changes: %w", err)
		}
		ch.op = Op(op)
		out = append(out, ch)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("change-data-capture: read changes: %w", err)
	}
	return out, nil
}

// messages turns changes into bus messages. snapshot reports whether any
// is a snapshot read.
func (c *SQLite) messages(changes []sqliteChange, cols []column, sch *schemas, epoch string) ([]*bus.Message, bool, error) {
	var (
		out      []*bus.Message
		snapshot bool
		ib       imageBuilder
	)
	var fields []field
	img := func(s sql.NullString) (*image, error) {
		if !s.Valid {
			return nil, nil
		}
		var err error
		if fields, err = scanFlat(s.String, fields[:0]); err != nil {
			// Not json_object's output: the general decoder.
			var vals map[string]json.RawMessage
			if err := json.Unmarshal([]byte(s.String), &vals); err != nil {
				return nil, err
			}
			fields = fields[:0]
			for k, v := range vals {
				fields = append(fields, field{key: k, raw: string(v)})
			}
		}
		ib.start()
		for i, col := range cols {
			raw := ""
			if i < len(fields) && fields[i].key == col.name { // json_object's order is the table's
				raw = fields[i].raw
			} else {
				for _, f := range fields {
					if f.key == col.name {
						raw = f.raw
						break
					}
				}
			}
			from := ib.field(col.name)
			if ib.row, err = appendJSONValue(ib.row, col.kind, raw); err != nil {
				return nil, fmt.Errorf("column %s: %w", col.name, err)
			}
			ib.done(col, from)
		}
		im := ib.finish()
		return &im, nil
	}
	for _, ch := range changes {
		if !ch.op.valid() {
			return nil, false, fmt.Errorf("change-data-capture: change %d: unknown op %q", ch.id, ch.op)
		}
		before, err := img(ch.before)
		if err != nil {
			return nil, false, fmt.Errorf("change-data-capture: change %d: before: %w", ch.id, err)
		}
		after, err := img(ch.after)
		if err != nil {
			return nil, false, fmt.Errorf("change-data-capture: change %d: after: %w", ch.id, err)
		}
		id := ch.id
		src := Source{Version: SourceVersion, Connector: "sqlite", Name: c.cfg.ServerName, Snapshot: SnapshotFalse,
			DB: "main", Schema: "main", Table: activities.Table, LSN: &id}
		if ch.op == OpRead {
			snapshot = true
			src.Snapshot = SnapshotTrue
			if ch.snapshot.Valid && ch.snapshot.String != "" {
				src.Snapshot = Snapshot(ch.snapshot.String)
			}
		}
		sourceTimes(&src, time.UnixMilli(ch.tsMs))
		prefix := epoch + "-" + strconv.FormatInt(id, 10) + "-"
		out = append(out, c.cfg.messages(rowChange{op: ch.op, before: before, after: after, schemas: sch}, src, func(n int) string {
			return prefix + strconv.Itoa(n)
		})...)
	}
	return out, snapshot, nil
}

// trim deletes the changes up to last, which the bus acknowledged.
func (c *SQLite) trim(ctx context.Context, last int64) error {
	unlock, err := c.s.LockWrites(ctx)
	if err != nil {
		return nil // stopping
	}
	defer unlock()
	if _, err := c.s.DB().ExecContext(ctx, `DELETE FROM `+ChangesTable+` WHERE change_id <= $1`, last); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("change-data-capture: delete relayed changes: %w", err)
	}
	return nil
}

// Pending returns how many changes of the activities table a capture has
// still to relay: on SQLite, the rows of ChangesTable (0 before the
// capture's migration made it). On PostgreSQL it returns 0: the
// replication slot's backlog is not counted.
func Pending(ctx context.Context, s *store.Store) (int64, error) {
	if s.Dialect() != store.SQLite {
		return 0, nil
	}
	var exists int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1`, ChangesTable).Scan(&exists); err != nil {
		return 0, fmt.Errorf("change-data-capture: %w", err)
	}
	if exists == 0 {
		return 0, nil
	}
	var n int64
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM `+ChangesTable).Scan(&n); err != nil {
		return 0, fmt.Errorf("change-data-capture: count pending changes: %w", err)
	}
	return n, nil
}
