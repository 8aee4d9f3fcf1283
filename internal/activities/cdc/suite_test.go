package cdc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// testEnv is a store private to a test with a capture configuration whose
// names (slot, publication) are unique to it.
type testEnv struct {
	d   store.Dialect
	url string
	st  *store.Store
	cfg Config
}

// newEnv opens a store of dialect d for the test, with the activities
// table. On PostgreSQL it skips the test when the server's wal_level is not
// logical, and drops the capture's slot and publication when the test ends.
func newEnv(t testing.TB, d store.Dialect) *testEnv {
	t.Helper()
	url := storetest.URL(t, d)
	if d == store.Postgres {
		requireLogical(t, url)
	}
	return openEnv(t, d, url, uniqueName())
}

// openEnv opens an existing store with a given capture name.
func openEnv(t testing.TB, d store.Dialect, url, name string) *testEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("open %s store: %v", d, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := activities.Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	e := &testEnv{d: d, url: url, st: st, cfg: Config{Name: name, MaxBatch: 500, Logger: testLogger()}}
	if d == store.Postgres {
		e.cfg.URL = url
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			p, err := NewPostgres(e.cfg)
			if err == nil {
				err = p.Drop(ctx)
			}
			if err != nil {
				t.Errorf("drop the capture's slot and publication: %v", err)
			}
		})
	}
	return e
}

func uniqueName() string {
	var r [5]byte
	_, _ = rand.Read(r[:])
	return "t" + hex.EncodeToString(r[:])
}

// testLogger logs warnings and errors to stderr; PODIUM_TEST_LOG=1 logs
// everything.
func testLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("PODIUM_TEST_LOG") == "1" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// requireLogical skips the test when the PostgreSQL server cannot do
// logical replication.
func requireLogical(t testing.TB, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to %s: %v", storetest.PostgresEnv, err)
	}
	defer conn.Close(ctx)
	var level string
	if err := conn.QueryRow(ctx, `SHOW wal_level`).Scan(&level); err != nil {
		t.Fatalf("read wal_level: %v", err)
	}
	if level != "logical" {
		t.Skipf("the PostgreSQL server of %s has wal_level=%s, not logical: skipping the change-data-capture tests "+
			"(.ci/run starts a private cluster with wal_level=logical)", storetest.PostgresEnv, level)
	}
}

// capture returns a new capture of the env's store with cfg.
func (e *testEnv) capture(t testing.TB, cfg Config) Capture {
	t.Helper()
	var (
		c   Capture
		err error
	)
	if e.d == store.Postgres {
		c, err = NewPostgres(cfg)
	} else {
		c, err = NewSQLite(e.st, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// running is a capture running in a goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// run starts c on b; the capture is stopped when the test ends, failing it
// if Run returned an error.
func run(t testing.TB, c Capture, b bus.Bus) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- c.Run(ctx, b) }()
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("capture: %v", err)
		}
	})
	return r
}

// stop stops the capture and returns what Run returned.
func (r *running) stop() error {
	r.once.Do(func() {
		r.cancel()
		r.err = <-r.done
	})
	return r.err
}

// failed returns Run's error if it returned already.
func (r *running) failed() error {
	select {
	case err := <-r.done:
		r.once.Do(func() { r.err = err })
		if r.err == nil {
			return fmt.Errorf("capture stopped without error")
		}
		return r.err
	default:
		return nil
	}
}

// reader reads the topic from its start and de-duplicates events by ID,
// as a consumer does.
type reader struct {
	t       testing.TB
	c       bus.Consumer
	dedup   *Dedup
	ids     map[string]int // message ID -> number of messages with it
	msgs    []*bus.Message // every message read, duplicates included
	changes []Change       // distinct events in order, tombstones included
}

func newReader(t testing.TB, b bus.Bus, topic string) *reader {
	t.Helper()
	c, err := b.Consume(context.Background(), bus.ConsumerConfig{Topic: topic, Start: bus.Earliest})
	if err != nil {
		t.Fatalf("consume %s: %v", topic, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &reader{t: t, c: c, dedup: NewDedup(0), ids: map[string]int{}}
}

// fetch reads what arrives within d.
func (r *reader) fetch(d time.Duration) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	msgs, err := r.c.Fetch(ctx, 1000)
	if err != nil && ctx.Err() == nil {
		r.t.Fatalf("fetch: %v", err)
	}
	for _, m := range msgs {
		if m.ID == "" {
			r.t.Fatalf("message at %s has no ID", m.Position())
		}
		r.msgs = append(r.msgs, m)
		r.ids[m.ID]++
		if r.dedup.Seen(m.ID) {
			continue
		}
		c, err := DecodeMessage(m)
		if err != nil {
			r.t.Fatalf("decode message at %s: %v\n%s", m.Position(), err, m.Value)
		}
		r.changes = append(r.changes, c)
	}
}

// valued returns the messages read so far that have a value (tombstones
// left out), duplicates included.
func (r *reader) valued() []*bus.Message {
	var out []*bus.Message
	for _, m := range r.msgs {
		if len(m.Value) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// events returns the distinct events read so far, tombstones left out.
func (r *reader) events() []Change {
	var out []Change
	for _, c := range r.changes {
		if !c.Tombstone {
			out = append(out, c)
		}
	}
	return out
}

// until reads until n distinct events (tombstones left out) arrived.
func (r *reader) until(n int, capture *running, timeout time.Duration) []Change {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for len(r.events()) < n {
		if capture != nil {
			if err := capture.failed(); err != nil {
				r.t.Fatalf("capture stopped after %d of %d events: %v", len(r.events()), n, err)
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("only %d of %d events arrived within %s:\n%s", len(r.events()), n, timeout, strings.Join(lines(r.events()), "\n"))
		}
		r.fetch(200 * time.Millisecond)
	}
	return r.events()
}

// settle reads until every delete read so far has its tombstone: a
// capture publishes the two as separate messages, and until, which counts
// events, can return between them. For captures that send tombstones.
func (r *reader) settle(timeout time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		deletes, tombstones := 0, 0
		for _, c := range r.changes {
			switch {
			case c.Tombstone:
				tombstones++
			case c.Op == OpDelete:
				deletes++
			}
		}
		if tombstones >= deletes {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d deletes but %d tombstones within %s", deletes, tombstones, timeout)
		}
		r.fetch(200 * time.Millisecond)
	}
}

// duplicates lists the IDs held by more than one message of the topic.
func (r *reader) duplicates() []string {
	var out []string
	for id, n := range r.ids {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s x%d", id, n))
		}
	}
	return out
}

// line describes a change for comparisons.
func line(op Op, id int64, before, after *activities.Activity) string {
	return fmt.Sprintf("%s %d before=%s after=%s", op, id, activityString(before), activityString(after))
}

func lines(changes []Change) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = line(c.Op, c.ID, c.Before, c.After)
	}
	return out
}

// diffLines reports the first difference between two lists of lines.
func diffLines(got, want []string) string {
	for i := 0; i < max(len(got), len(want)); i++ {
		g, w := "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return fmt.Sprintf("%d events, want %d; first difference at event %d:\n got %s\nwant %s", len(got), len(want), i, g, w)
		}
	}
	return ""
}

// writer makes random changes with plain SQL, one transaction at a time,
// and records the change events they must give, in commit order.
type writer struct {
	t    testing.TB
	st   *store.Store
	rng  *mrand.Rand
	rows map[int64]activities.Activity
	live []int64
	next int64
	want []string
}

func newWriter(t testing.TB, st *store.Store, seed uint64) *writer {
	return &writer{t: t, st: st, rng: mrand.New(mrand.NewPCG(seed, 42)), rows: map[int64]activities.Activity{}, next: 1}
}

var comments = []string{"", "easy", "tempo run", `it's "fast"`, "ünïcödé ✓", "line\nbreak", "<b>&amp;</b>"}

func (w *writer) activity(id int64) activities.Activity {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return activities.Activity{
		ID:         id,
		EmployeeID: fmt.Sprintf("emp-%03d", w.rng.IntN(200)),
		StartTime:  base.Add(time.Duration(w.rng.Int64N(int64(300*24*time.Hour))) / time.Microsecond * time.Microsecond),
		SportType:  []string{"run", "ride", "swim", "walk"}[w.rng.IntN(4)],
		DistanceM:  float64(w.rng.IntN(500000)) / 10,
		ElapsedS:   w.rng.IntN(20000),
		Comment:    comments[w.rng.IntN(len(comments))],
		Source:     []string{activities.SourceGenerator, activities.SourceAPI, activities.SourceStrava}[w.rng.IntN(3)],
		UpdatedAt:  base.Add(time.Duration(w.rng.Int64N(int64(300*24*time.Hour))) / time.Microsecond * time.Microsecond),
	}
}

// initial inserts n rows before any capture runs and returns the snapshot
// events they must give, in id order.
func (w *writer) initial(n int) []string {
	var acts []activities.Activity
	var out []string
	for range n {
		a := w.activity(w.next)
		w.next++
		acts = append(acts, a)
		w.rows[a.ID] = a
		w.live = append(w.live, a.ID)
		out = append(out, line(OpRead, a.ID, nil, &a))
	}
	if err := activities.Upsert(context.Background(), w.st.DB(), acts...); err != nil {
		w.t.Fatal(err)
	}
	return out
}

type plannedOp struct {
	op            Op
	before, after *activities.Activity
}

// tx commits one transaction of 1 to 4 random inserts, updates and deletes.
func (w *writer) tx() {
	w.t.Helper()
	var ops []plannedOp
	rows := map[int64]activities.Activity{}
	live := append([]int64(nil), w.live...)
	next := w.next
	get := func(id int64) activities.Activity {
		if a, ok := rows[id]; ok {
			return a
		}
		return w.rows[id]
	}
	for n := 1 + w.rng.IntN(4); n > 0; n-- {
		switch r := w.rng.IntN(100); {
		case r < 50 || len(live) == 0:
			a := w.activity(next)
			next++
			rows[a.ID] = a
			live = append(live, a.ID)
			ops = append(ops, plannedOp{op: OpCreate, after: &a})
		case r < 85:
			i := w.rng.IntN(len(live))
			before := get(live[i])
			after := before
			after.DistanceM = float64(w.rng.IntN(500000)) / 10
			after.ElapsedS = w.rng.IntN(20000)
			after.Comment = comments[w.rng.IntN(len(comments))]
			after.UpdatedAt = before.UpdatedAt.Add(time.Duration(1+w.rng.IntN(1000000)) * time.Microsecond)
			rows[after.ID] = after
			ops = append(ops, plannedOp{op: OpUpdate, before: &before, after: &after})
		default:
			i := w.rng.IntN(len(live))
			before := get(live[i])
			live = append(live[:i], live[i+1:]...)
			ops = append(ops, plannedOp{op: OpDelete, before: &before})
		}
	}
	ctx := context.Background()
	err := w.st.InTx(ctx, func(tx *sql.Tx) error {
		for _, o := range ops {
			var err error
			switch o.op {
			case OpCreate:
				a := o.after
				_, err = tx.ExecContext(ctx, `INSERT INTO sport_activities (id, employee_id, start_time, sport_type, distance_m, elapsed_s, comment, source, updated_at)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, a.ID, a.EmployeeID, a.StartTime, a.SportType, a.DistanceM, a.ElapsedS, a.Comment, a.Source, a.UpdatedAt)
			case OpUpdate:
				a := o.after
				_, err = tx.ExecContext(ctx, `UPDATE sport_activities SET distance_m = $1, elapsed_s = $2, comment = $3, updated_at = $4 WHERE id = $5`,
					a.DistanceM, a.ElapsedS, a.Comment, a.UpdatedAt, a.ID)
			case OpDelete:
				_, err = tx.ExecContext(ctx, `DELETE FROM sport_activities WHERE id = $1`, o.before.ID)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		w.t.Fatalf("write changes: %v", err)
	}
	for _, o := range ops {
		id := int64(0)
		if o.after != nil {
			id = o.after.ID
			w.rows[id] = *o.after
		} else {
			id = o.before.ID
			delete(w.rows, id)
		}
		w.want = append(w.want, line(o.op, id, o.before, o.after))
	}
	w.live, w.next = live, next
}
