package cdc

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// logBuffer is a log destination tests read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) lines(containing string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
		if strings.Contains(line, containing) {
			out = append(out, line)
		}
	}
	return out
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// observed is e's capture configuration with its logs kept in logs and
// metrics of its own (cfg.Metrics).
func (e *testEnv) observed() (cfg Config, logs *logBuffer) {
	logs = &logBuffer{}
	cfg = e.cfg
	cfg.Logger = logs.logger()
	cfg.Metrics = NewMetrics(prometheus.NewRegistry())
	return cfg, logs
}

// TestPostgresLogicalMessages: pg_logical_emit_message, transactional or
// not, gives op "m" events shaped as Debezium's (key {"prefix":…}, message
// block with the content in base64, empty schema and table, txId only for
// a transactional one); the capture's heartbeats are not published.
func TestPostgresLogicalMessages(t *testing.T) {
	e := newEnv(t, store.Postgres)
	b := enginetest.Open(t, enginetest.JetStream)
	r := newReader(t, b, activities.TopicActivities)
	cfg := e.cfg
	cfg.HeartbeatInterval = 50 * time.Millisecond
	c := run(t, e.capture(t, cfg), b)
	e.waitReady(t, c)
	ctx := context.Background()
	tx, err := e.st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_logical_emit_message(true, 'outbox', 'in a transaction')`); err != nil {
		t.Fatal(err)
	}
	if err := activities.Upsert(ctx, tx, activities.Activity{ID: 3, EmployeeID: "emp-3", StartTime: utc("2024-05-01T07:30:00Z"),
		SportType: "run", Source: "api", UpdatedAt: utc("2024-05-01T08:00:00Z")}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // heartbeats go by meanwhile
	if _, err := e.st.DB().ExecContext(ctx, `SELECT pg_logical_emit_message(false, 'audit', 'on its own')`); err != nil {
		t.Fatal(err)
	}
	r.until(3, c, time.Minute)
	time.Sleep(300 * time.Millisecond)
	r.fetch(300 * time.Millisecond)
	got := r.events()
	if len(got) != 3 {
		t.Fatalf("%d events, want the transactional message, the insert and the other message (heartbeats are not published):\n%s",
			len(got), strings.Join(lines(got), "\n"))
	}
	for i, want := range []struct {
		prefix, content string
		tx              bool
	}{{"outbox", "in a transaction", true}, {"", "", false}, {"audit", "on its own", false}} {
		ch, m := got[i], r.valued()[i]
		if i == 1 {
			if ch.Op != OpCreate {
				t.Errorf("event 1: op %s, want c", ch.Op)
			}
			continue
		}
		if ch.Op != OpMessage || ch.Message == nil || ch.Message.Prefix != want.prefix || string(ch.Message.Content) != want.content {
			t.Errorf("event %d: op %s message %+v, want op m, prefix %s, content %q", i, ch.Op, ch.Message, want.prefix, want.content)
			continue
		}
		if m.Key != `{"prefix":"`+want.prefix+`"}` {
			t.Errorf("event %d: key %s, want {\"prefix\":%q}", i, m.Key, want.prefix)
		}
		if ch.Source.Schema != "" || ch.Source.Table != "" || ch.Source.LSN == nil || ch.Source.Snapshot != SnapshotFalse {
			t.Errorf("event %d: source %+v: want empty schema and table, an lsn, snapshot false", i, ch.Source)
		}
		if (ch.Source.TxID != nil) != want.tx {
			t.Errorf("event %d: txId %v, want one only for a transactional message", i, ch.Source.TxID)
		}
		if !bytes.Contains(m.Value, []byte(`"message":{"prefix":"`+want.prefix+`","content":"`)) {
			t.Errorf("event %d: no Debezium message block in %s", i, m.Value)
		}
	}
	// Each consumer's fold skips them.
	final, truncated := Final(got)
	if truncated || len(final) != 1 || final[3] == nil {
		t.Errorf("Final: %v truncated=%v, want activity 3 alone", final, truncated)
	}
}

// TestPostgresHeartbeat: with the captured table quiet while another table
// of the database is written, the heartbeats keep the slot's
// confirmed_flush_lsn advancing past the other table's writes; the gauge
// podium_cdc_wal_retained_bytes{slot} and the last heartbeat are recorded.
func TestPostgresHeartbeat(t *testing.T) {
	e := newEnv(t, store.Postgres)
	b := enginetest.Open(t, enginetest.JetStream)
	reg := prometheus.NewRegistry()
	cfg := e.cfg
	cfg.HeartbeatInterval = 100 * time.Millisecond
	cfg.StatusInterval = 200 * time.Millisecond
	cfg.Metrics = NewMetrics(reg)
	c := run(t, e.capture(t, cfg), b)
	e.waitReady(t, c)
	ctx := context.Background()
	db := e.st.DB()
	if _, err := db.ExecContext(ctx, `CREATE TABLE other_table (id BIGINT PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	slotLSN := func() (confirmed, current int64) {
		t.Helper()
		err := db.QueryRowContext(ctx, `SELECT (confirmed_flush_lsn - '0/0')::bigint, (pg_current_wal_lsn() - '0/0')::bigint
			FROM pg_replication_slots WHERE slot_name = $1`, cfg.Slot()).Scan(&confirmed, &current)
		if err != nil {
			t.Fatal(err)
		}
		return confirmed, current
	}
	for round := range 3 {
		for i := range 20 {
			if _, err := db.ExecContext(ctx, `INSERT INTO other_table VALUES ($1, repeat('x', 2000))`, round*100+i); err != nil {
				t.Fatal(err)
			}
		}
		_, written := slotLSN()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if err := c.failed(); err != nil {
				t.Fatal(err)
			}
			confirmed, _ := slotLSN()
			if confirmed >= written {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: confirmed_flush_lsn %d stays behind the other table's writes at %d", round, confirmed, written)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var beat *time.Time
		if err := db.QueryRowContext(ctx, `SELECT heartbeat_at FROM podium_cdc_state WHERE name = $1`, cfg.Slot()).Scan(&beat); err != nil {
			t.Fatal(err)
		}
		n, err := testutil.GatherAndCount(reg, "podium_cdc_wal_retained_bytes")
		if beat != nil && err == nil && n == 1 {
			if v := testutil.ToFloat64(cfg.Metrics.walRetained.WithLabelValues(cfg.Slot())); v < 0 {
				t.Errorf("podium_cdc_wal_retained_bytes = %g", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no heartbeat recorded (%v) or no podium_cdc_wal_retained_bytes{slot} series (%d, %v)", beat, n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var out bytes.Buffer
	if err := WriteStatus(ctx, &out, e.st, cfg, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"publication", cfg.Slot() + " (exists) for ", "slot", "active", "WAL retained", "last heartbeat", " ago ("} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("cdc status lacks %q:\n%s", want, out.String())
		}
	}
}

// TestPostgresSlotLost: a slot dropped while the capture is down (a
// failover, an operator), and one dropped between its preparation and the
// start of its stream, are taken again with one log line: a truncate event
// then every row, so that a consumer folding the events ends with the
// table as it is — the changes made while no slot existed included.
func TestPostgresSlotLost(t *testing.T) {
	e := newEnv(t, store.Postgres)
	b := enginetest.Open(t, enginetest.JetStream)
	r := newReader(t, b, activities.TopicActivities)
	w := newWriter(t, e.st, 11)
	w.initial(10)
	cfg, logs := e.observed()
	c := run(t, e.capture(t, cfg), b)
	e.waitReady(t, c)
	for range 20 {
		w.tx()
	}
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	drop := func() { dropSlotWhenFree(t, e.st.DB(), cfg.Slot()) }
	drop()
	for range 25 { // changes no slot records: deletes among them
		w.tx()
	}
	c = run(t, e.capture(t, cfg), b)
	for range 10 {
		w.tx()
	}
	settle(t, c, r, w)
	// Stopped once its snapshot is recorded as done: a capture stopped
	// before takes that snapshot again when it starts (a second truncate),
	// which is not a second loss.
	e.waitReady(t, c)
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}

	// The second loss: the slot goes between its preparation (resumed)
	// and the start of its stream; the same run takes it again.
	for range 10 {
		w.tx()
	}
	p, err := NewPostgres(cfg)
	if err != nil {
		t.Fatal(err)
	}
	once := sync.Once{}
	p.hooks = &hooks{prepared: func() { once.Do(drop) }}
	c = run(t, p, b)
	for range 10 {
		w.tx()
	}
	settle(t, c, r, w)
	// One line per loss, each saying why, one truncate before each new
	// snapshot, one count per loss.
	lost := logs.lines("replication slot lost")
	if len(lost) != 2 {
		t.Errorf("%d log lines say the slot was lost, want one per loss (2):\n%s", len(lost), strings.Join(lost, "\n"))
	}
	for _, l := range lost {
		if !strings.Contains(l, "dropped") {
			t.Errorf("the log line does not say why: %s", l)
		}
	}
	if n := truncates(r.events()); n != 2 {
		t.Errorf("%d truncate events, want one before each new snapshot (2)", n)
	}
	if v := testutil.ToFloat64(cfg.Metrics.losses.WithLabelValues(cfg.Slot())); v != 2 {
		t.Errorf("podium_cdc_slot_losses_total = %g, want 2", v)
	}
}

// TestPostgresSlotInvalidated: on a private cluster (1 MB WAL segments,
// max_slot_wal_keep_size = 1MB), the WAL written while the capture is
// stopped makes the server invalidate its slot (wal_status 'lost'), as a
// stalled capture does in production. `cdc status` shows it; the capture
// started again says so in one log line naming max_slot_wal_keep_size,
// counts it in podium_cdc_slot_losses_total, re-creates the slot and takes
// the table again (a truncate, then every row once), so that a consumer
// folding the events ends with the table as it is — the changes the lost
// slot held included, no row twice — and streams on.
func TestPostgresSlotInvalidated(t *testing.T) {
	url := storetest.Cluster(t, storetest.ClusterConfig{
		InitDB: []string{"--wal-segsize=1"},
		Settings: []string{"wal_level = logical", "max_slot_wal_keep_size = '1MB'", "wal_keep_size = 0",
			"max_wal_senders = 10", "max_replication_slots = 10"},
	})
	e := openEnv(t, store.Postgres, url, uniqueName())
	b := enginetest.Open(t, enginetest.JetStream)
	r := newReader(t, b, activities.TopicActivities)
	w := newWriter(t, e.st, 12)
	w.initial(10)
	cfg, logs := e.observed()
	c := run(t, e.capture(t, cfg), b)
	e.waitReady(t, c)
	for range 10 {
		w.tx()
	}
	settle(t, c, r, w)
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	db := e.st.DB()
	for range 20 { // changes only the lost slot had: deletes among them
		w.tx()
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE filler (id BIGSERIAL PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	walStatus := func() string {
		t.Helper()
		var s *string
		if err := db.QueryRowContext(ctx, `SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`, cfg.Slot()).Scan(&s); err != nil {
			t.Fatalf("read the slot's wal_status: %v", err)
		}
		if s == nil {
			return "(null)"
		}
		return *s
	}
	// The checkpoint after WAL beyond max_slot_wal_keep_size invalidates
	// the slot.
	for i := 0; ; i++ {
		st := walStatus()
		if st == "lost" {
			t.Logf("wal_status lost after %d WAL switches", i)
			break
		}
		if i == 50 {
			t.Fatalf("wal_status %s after %d WAL switches of 1 MB with max_slot_wal_keep_size = 1MB", st, i)
		}
		for _, q := range []string{`INSERT INTO filler (v) SELECT repeat(md5(g::text), 30) FROM generate_series(1, 500) g`,
			`SELECT pg_switch_wal()`, `CHECKPOINT`} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	var out bytes.Buffer
	if err := WriteStatus(ctx, &out, e.st, cfg, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wal_status lost", "max_slot_wal_keep_size", "new snapshot"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("cdc status of the invalidated slot lacks %q:\n%s", want, out.String())
		}
	}

	before := len(r.events())
	c = run(t, e.capture(t, cfg), b)
	for range 10 {
		w.tx()
	}
	settle(t, c, r, w)
	e.waitReady(t, c)
	if st := walStatus(); st == "lost" {
		t.Errorf("the capture streams on, its slot's wal_status is still %s", st)
	}

	lost := logs.lines("replication slot lost")
	if len(lost) != 1 || !strings.Contains(lost[0], "invalidated") || !strings.Contains(lost[0], "max_slot_wal_keep_size") {
		t.Errorf("want one log line saying the slot was invalidated beyond max_slot_wal_keep_size, got:\n%s", strings.Join(lost, "\n"))
	}
	t.Logf("the log line: %s", strings.Join(lost, "\n"))
	if v := testutil.ToFloat64(cfg.Metrics.losses.WithLabelValues(cfg.Slot())); v != 1 {
		t.Errorf("podium_cdc_slot_losses_total = %g, want 1", v)
	}
	after := r.events()[before:]
	if len(after) == 0 || after[0].Op != OpTruncate || truncates(after) != 1 {
		t.Fatalf("after the loss: %d events, want a truncate first and only one", len(after))
	}
	read := map[int64]int{}
	for _, ch := range after {
		if ch.Op == OpRead {
			read[ch.ID]++
		}
	}
	for id, n := range read {
		if n != 1 {
			t.Errorf("the new snapshot read activity %d %d times", id, n)
		}
	}
	if len(read) == 0 {
		t.Error("no snapshot after the loss")
	}
}

// TestPostgresSlotInvalidatedWhileStreaming: a capture that streams but
// cannot publish (the bus stalls) holds its slot's WAL until the server
// invalidates the slot at a checkpoint and ends the capture's replication
// connection. Supervised as serve runs it, the capture starts again, finds
// the slot lost (one line, one count) and, once the bus is back, has
// published a new snapshot and the changes after it: nothing lost.
func TestPostgresSlotInvalidatedWhileStreaming(t *testing.T) {
	url := storetest.Cluster(t, storetest.ClusterConfig{
		InitDB: []string{"--wal-segsize=1"},
		Settings: []string{"wal_level = logical", "max_slot_wal_keep_size = '1MB'", "wal_keep_size = 0",
			"max_wal_senders = 10", "max_replication_slots = 10"},
	})
	e := openEnv(t, store.Postgres, url, uniqueName())
	b := &stallingBus{Bus: enginetest.Open(t, enginetest.JetStream), resume: make(chan struct{})}
	r := newReader(t, b, activities.TopicActivities)
	w := newWriter(t, e.st, 14)
	w.initial(10)
	cfg, logs := e.observed()
	ctx, cancel := context.WithCancel(context.Background())
	c := &running{cancel: cancel, done: make(chan error, 1)}
	go func() {
		Supervise(ctx, e.capture(t, cfg), b, cfg.Logger)
		c.done <- nil
	}()
	t.Cleanup(func() { _ = c.stop() })
	e.waitReady(t, c)
	for range 5 {
		w.tx()
	}
	settle(t, c, r, w)

	b.stalled.Store(true)
	for range 10 { // received, never published nor confirmed
		w.tx()
	}
	db := e.st.DB()
	if _, err := db.Exec(`CREATE TABLE filler (id BIGSERIAL PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := 0; len(logs.lines("replication slot lost")) == 0; i++ {
		if i == 100 {
			t.Fatalf("no loss logged after %d WAL switches of 1 MB with max_slot_wal_keep_size = 1MB", i)
		}
		for _, q := range []string{`INSERT INTO filler (v) SELECT repeat(md5(g::text), 30) FROM generate_series(1, 500) g`,
			`SELECT pg_switch_wal()`, `CHECKPOINT`} {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.stalled.Store(false)
	close(b.resume)
	for range 5 {
		w.tx()
	}
	settle(t, c, r, w)
	e.waitReady(t, c)
	lost := logs.lines("replication slot lost")
	t.Logf("the log lines:\n%s", strings.Join(logs.lines("level=WARN"), "\n")+"\n"+strings.Join(logs.lines("level=ERROR"), "\n"))
	if len(lost) != 1 || !strings.Contains(lost[0], "invalidated") {
		t.Errorf("want one log line saying the slot was invalidated, got:\n%s", strings.Join(lost, "\n"))
	}
	if v := testutil.ToFloat64(cfg.Metrics.losses.WithLabelValues(cfg.Slot())); v != 1 {
		t.Errorf("podium_cdc_slot_losses_total = %g, want 1", v)
	}
}

// stallingBus holds every publish while stalled, until resume is closed.
type stallingBus struct {
	bus.Bus
	stalled atomic.Bool
	resume  chan struct{}
}

func (s *stallingBus) Publish(ctx context.Context, msgs ...*bus.Message) error {
	if s.stalled.Load() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.resume:
		}
	}
	return s.Bus.Publish(ctx, msgs...)
}

// dropSlotWhenFree drops the replication slot as an operator does, once
// the server has noticed that the capture using it stopped.
func dropSlotWhenFree(t *testing.T, db *sql.DB, slot string) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := db.Exec(`SELECT pg_drop_replication_slot($1)`, slot)
		if err == nil {
			return
		}
		if !isCode(err, "55006") || time.Now().After(deadline) {
			t.Errorf("drop the slot: %v", err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPostgresSlotLostSnapshotInterrupted: the snapshot taken after a
// loss, interrupted (the capture stopped in its middle), is taken again in
// full at the next start, truncate first — without a second "slot lost"
// line: one loss, one line and one count. (Logged as a loss each time the
// capture prepared its slot, it gave TestPostgresSlotLost a third line
// under -race, saying wrongly that the server refused to stream.)
func TestPostgresSlotLostSnapshotInterrupted(t *testing.T) {
	e := newEnv(t, store.Postgres)
	b := enginetest.Open(t, enginetest.JetStream)
	r := newReader(t, b, activities.TopicActivities)
	w := newWriter(t, e.st, 13)
	w.initial(20)
	cfg, logs := e.observed()
	cfg.MaxBatch = 5
	c := run(t, e.capture(t, cfg), b)
	e.waitReady(t, c)
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	dropSlotWhenFree(t, e.st.DB(), cfg.Slot())
	for range 10 {
		w.tx()
	}
	// The new snapshot stops after its first batch.
	p, err := NewPostgres(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopped, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	p.hooks = &hooks{published: func(snapshot bool, _ int) {
		if snapshot {
			once.Do(func() {
				close(stopped)
				<-release
			})
		}
	}}
	c = run(t, p, b)
	<-stopped
	c.cancel()
	close(release)
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	var state string
	if err := e.st.DB().QueryRow(`SELECT snapshot FROM podium_cdc_state WHERE name = $1`, cfg.Slot()).Scan(&state); err != nil || state != "lost" {
		t.Fatalf("after the interrupted snapshot the state is %q (%v), want lost", state, err)
	}

	c = run(t, e.capture(t, cfg), b)
	for range 5 {
		w.tx()
	}
	settle(t, c, r, w)
	e.waitReady(t, c)
	lost := logs.lines("replication slot lost")
	if len(lost) != 1 || !strings.Contains(lost[0], "dropped") {
		t.Errorf("want one line saying the slot was lost because it was dropped, got:\n%s", strings.Join(lost, "\n"))
	}
	if v := testutil.ToFloat64(cfg.Metrics.losses.WithLabelValues(cfg.Slot())); v != 1 {
		t.Errorf("podium_cdc_slot_losses_total = %g, want 1", v)
	}
	if n := truncates(r.events()); n != 2 {
		t.Errorf("%d truncate events, want 2: the interrupted snapshot's, then the one taken again in full", n)
	}
}

// settle waits until the events r read, folded in order as a consumer
// does (Final starts again at a truncate), hold the rows w wrote: no
// change lost, no row deleted meanwhile left.
func settle(t *testing.T, c *running, r *reader, w *writer) {
	t.Helper()
	want := map[int64]activities.Activity{}
	for id, a := range w.rows {
		want[id] = a
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if err := c.failed(); err != nil {
			t.Fatal(err)
		}
		r.fetch(300 * time.Millisecond)
		final, _ := Final(r.events())
		state := map[int64]activities.Activity{}
		for id, a := range final {
			if a != nil {
				state[id] = *a
			}
		}
		if sameRows(state, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the folded events hold %d activities, the table %d: a change was lost", len(state), len(want))
		}
	}
}

func truncates(events []Change) int {
	n := 0
	for _, ch := range events {
		if ch.Op == OpTruncate {
			n++
		}
	}
	return n
}

func sameRows(a, b map[int64]activities.Activity) bool {
	if len(a) != len(b) {
		return false
	}
	for id, x := range a {
		y, ok := b[id]
		if !ok || activityString(&x) != activityString(&y) {
			return false
		}
	}
	return true
}

// TestReplicaIdentityCheck: a table without a primary key whose REPLICA
// IDENTITY is not FULL, or any table with REPLICA IDENTITY NOTHING, is
// refused at start with the SQL that fixes it; without a primary key but
// with REPLICA IDENTITY FULL, the capture runs.
func TestReplicaIdentityCheck(t *testing.T) {
	e := newEnv(t, store.Postgres)
	b := enginetest.Open(t, enginetest.JetStream)
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if _, err := e.st.DB().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	runOnce := func() error {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return e.capture(t, e.cfg).Run(ctx, b)
	}
	exec(`ALTER TABLE sport_activities REPLICA IDENTITY NOTHING`)
	err := runOnce()
	if !errors.Is(err, ErrReplicaIdentity) || !strings.Contains(err.Error(), "REPLICA IDENTITY FULL;") {
		t.Errorf("REPLICA IDENTITY NOTHING: Run returned %v, want ErrReplicaIdentity with the SQL to run", err)
	}
	exec(`ALTER TABLE sport_activities REPLICA IDENTITY DEFAULT`)
	exec(`ALTER TABLE sport_activities DROP CONSTRAINT sport_activities_pkey`)
	err = runOnce()
	if !errors.Is(err, ErrReplicaIdentity) || !strings.Contains(err.Error(), "has no primary key") ||
		!strings.Contains(err.Error(), "ADD PRIMARY KEY (id)") || strings.Contains(err.Error(), "\n") {
		t.Errorf("no primary key: Run returned %v, want one line with ErrReplicaIdentity and the SQL to run", err)
	}
	t.Logf("the error: %v", err)
	exec(`ALTER TABLE sport_activities REPLICA IDENTITY FULL`)
	r := newReader(t, b, activities.TopicActivities)
	c := run(t, e.capture(t, e.cfg), b)
	e.waitReady(t, c)
	a := activities.Activity{ID: 8, EmployeeID: "emp-8", StartTime: utc("2024-05-01T07:30:00Z"), SportType: "run", Source: "api",
		UpdatedAt: utc("2024-05-01T08:00:00Z")}
	exec(`INSERT INTO sport_activities (id, employee_id, start_time, sport_type, distance_m, elapsed_s, comment, source, updated_at)
		VALUES (8, 'emp-8', '2024-05-01T07:30:00Z', 'run', 0, 0, '', 'api', '2024-05-01T08:00:00Z')`)
	exec(`DELETE FROM sport_activities WHERE id = 8`)
	got := r.until(2, c, time.Minute)
	if diff := diffLines(lines(got), []string{line(OpCreate, 8, nil, &a), line(OpDelete, 8, &a, nil)}); diff != "" {
		t.Fatalf("without a primary key, with REPLICA IDENTITY FULL: %s", diff)
	}
	if k := r.valued()[0].Key; k != `{"id":8}` {
		t.Errorf("key %s, want {\"id\":8}", k)
	}
}
