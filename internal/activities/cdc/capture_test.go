package cdc

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// stateKey is the name of the capture's row in podium_cdc_state.
func (e *testEnv) stateKey() string {
	if e.d == store.Postgres {
		return e.cfg.Slot()
	}
	return e.cfg.Name
}

// waitReady waits until the capture has published or queued its initial
// snapshot: changes made from then on are streamed.
func (e *testEnv) waitReady(t testing.TB, c *running) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var state string
		err := e.st.DB().QueryRow(`SELECT snapshot FROM podium_cdc_state WHERE name = $1`, e.stateKey()).Scan(&state)
		if err == nil && state == "done" {
			return
		}
		if c != nil {
			if err := c.failed(); err != nil {
				t.Fatalf("capture stopped before its snapshot was done: %v", err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the capture's snapshot is not done after a minute (state %q, %v)", state, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// plainSQL changes the table with literal SQL statements, the same on both
// databases, and returns the events they must give.
func plainSQL(t *testing.T, db *sql.DB) []string {
	t.Helper()
	ctx := context.Background()
	exec := func(x interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}, q string) {
		t.Helper()
		if _, err := x.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	a1 := activities.Activity{ID: 1, EmployeeID: "emp-001", StartTime: utc("2024-05-01T07:30:00Z"), SportType: "run",
		DistanceM: 10000.5, ElapsedS: 3600, Comment: "morning run", Source: "api", UpdatedAt: utc("2024-05-01T08:31:00.123456Z")}
	a2 := activities.Activity{ID: 2, EmployeeID: "emp-002", StartTime: utc("2024-05-02T06:00:00Z"), SportType: "ride",
		DistanceM: 42195, ElapsedS: 5400, Comment: "", Source: "generator", UpdatedAt: utc("2024-05-02T08:00:00Z")}
	a3 := activities.Activity{ID: 3, EmployeeID: "emp-003", StartTime: utc("2024-05-03T18:15:00.5Z"), SportType: "swim",
		DistanceM: 1500, ElapsedS: 1800, Comment: "pool", Source: "strava", UpdatedAt: utc("2024-05-03T19:00:00Z")}
	a1b := a1
	a1b.DistanceM, a1b.Comment, a1b.UpdatedAt = 10250, `it's "tempo" <fast> & ünïcode`, utc("2024-05-01T09:00:00Z")
	a2b := a2
	a2b.ElapsedS += 60
	a4 := a2b
	a4.ID = 4

	exec(db, `INSERT INTO sport_activities (id, employee_id, start_time, sport_type, distance_m, elapsed_s, comment, source, updated_at)
		VALUES (1, 'emp-001', '2024-05-01T07:30:00Z', 'run', 10000.5, 3600, 'morning run', 'api', '2024-05-01T08:31:00.123456Z')`)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	exec(tx, `INSERT INTO sport_activities (id, employee_id, start_time, sport_type, distance_m, elapsed_s, comment, source, updated_at)
		VALUES (2, 'emp-002', '2024-05-02T06:00:00Z', 'ride', 42195, 5400, '', 'generator', '2024-05-02T08:00:00Z')`)
	exec(tx, `UPDATE sport_activities SET distance_m = 10250, comment = 'it''s "tempo" <fast> & ünïcode',
		updated_at = '2024-05-01T09:00:00Z' WHERE id = 1`)
	exec(tx, `INSERT INTO sport_activities (id, employee_id, start_time, sport_type, distance_m, elapsed_s, comment, source, updated_at)
		VALUES (3, 'emp-003', '2024-05-03T18:15:00.5Z', 'swim', 1500, 1800, 'pool', 'strava', '2024-05-03T19:00:00Z')`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	exec(db, `UPDATE sport_activities SET elapsed_s = elapsed_s + 60 WHERE id = 2`)
	exec(db, `DELETE FROM sport_activities WHERE id = 3`)
	exec(db, `UPDATE sport_activities SET id = 4 WHERE id = 2`) // a primary key change
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	exec(tx, `DELETE FROM sport_activities WHERE id = 1`)
	exec(tx, `DELETE FROM sport_activities WHERE id = 4`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return []string{
		line(OpCreate, 1, nil, &a1),
		line(OpCreate, 2, nil, &a2),
		line(OpUpdate, 1, &a1, &a1b),
		line(OpCreate, 3, nil, &a3),
		line(OpUpdate, 2, &a2, &a2b),
		line(OpDelete, 3, &a3, nil),
		line(OpDelete, 2, &a2b, nil),
		line(OpCreate, 4, nil, &a4),
		line(OpDelete, 1, &a1b, nil),
		line(OpDelete, 4, &a4, nil),
	}
}

// TestPlainSQL: inserts, updates and deletes made with plain SQL, some in
// one transaction, arrive on the topic in commit order with their before
// and after images, shaped as Debezium's.
func TestPlainSQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d)
		b := enginetest.Open(t, enginetest.JetStream)
		r := newReader(t, b, activities.TopicActivities)
		c := run(t, e.capture(t, e.cfg), b)
		e.waitReady(t, c)
		want := plainSQL(t, e.st.DB())
		got := lines(r.until(len(want), c, time.Minute))
		r.fetch(300 * time.Millisecond)
		if diff := diffLines(lines(r.events()), want); diff != "" {
			t.Fatalf("events differ from the changes:\n%s", diff)
		}
		_ = got
		if dups := r.duplicates(); len(dups) > 0 {
			t.Errorf("the topic holds duplicates: %v", dups)
		}

		// The first event, exactly as Debezium writes it.
		m := r.msgs[0]
		if m.Key != `{"id":1}` {
			t.Errorf("key %s, want {\"id\":1}", m.Key)
		}
		var ev map[string]json.RawMessage
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatal(err)
		}
		wantAfter := `{"id":1,"employee_id":"emp-001","start_time":"2024-05-01T07:30:00.000000Z","sport_type":"run","distance_m":10000.5,` +
			`"elapsed_s":3600,"comment":"morning run","source":"api","updated_at":"2024-05-01T08:31:00.123456Z",` +
			`"moving_s":0,"manual":false,"trainer":false,"commute":false}`
		if string(ev["after"]) != wantAfter || string(ev["before"]) != "null" || string(ev["op"]) != `"c"` {
			t.Errorf("first event:\n%s\nwant before null, op c, after %s", m.Value, wantAfter)
		}
		var src map[string]any
		if err := json.Unmarshal(ev["source"], &src); err != nil {
			t.Fatal(err)
		}
		connector := map[store.Dialect]string{store.Postgres: "postgresql", store.SQLite: "sqlite"}[d]
		if src["connector"] != connector || src["name"] != "sportsdata" || src["snapshot"] != "false" ||
			src["table"] != "sport_activities" || src["lsn"] == nil || src["ts_ms"] == nil {
			t.Errorf("source %s", ev["source"])
		}
		if d == store.Postgres && (src["txId"] == nil || src["sequence"] == nil || src["db"] == "") {
			t.Errorf("PostgreSQL source without txId, sequence or db: %s", ev["source"])
		}
		// The primary key change: a delete with the new key, a create
		// with the old one, as Debezium does.
		pk := r.valued()[6:8]
		if pk[0].Headers[HeaderNewKey] != `{"id":4}` || pk[1].Headers[HeaderOldKey] != `{"id":2}` {
			t.Errorf("primary key change headers: %v, %v", pk[0].Headers, pk[1].Headers)
		}
		// By default each delete is followed by its tombstone: same key,
		// no value (Debezium's tombstones.on.delete=true).
		checkTombstones(t, r.msgs, true)
	})
}

// checkTombstones checks that each delete event of msgs is followed by a
// tombstone of the same key when want, and never by one when not.
func checkTombstones(t *testing.T, msgs []*bus.Message, want bool) {
	t.Helper()
	deletes := 0
	for i, m := range msgs {
		if len(m.Value) == 0 {
			if !want {
				t.Errorf("tombstone at %d (key %s) though tombstones are off", i, m.Key)
			}
			continue
		}
		c, err := DecodeMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		if c.Op != OpDelete {
			continue
		}
		deletes++
		if !want {
			continue
		}
		if i+1 >= len(msgs) || len(msgs[i+1].Value) != 0 || msgs[i+1].Key != m.Key {
			t.Errorf("delete %s at %d is not followed by its tombstone", m.Key, i)
		}
	}
	if deletes == 0 {
		t.Errorf("no delete event among %d messages", len(msgs))
	}
}

// TestSameEventShapes: both captures give the same events for the same
// changes, but for the source block and the processing times.
func TestSameEventShapes(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skipf("%s is not set: nothing to compare SQLite's events with", storetest.PostgresEnv)
	}
	shapes := map[store.Dialect][]string{}
	for _, d := range storetest.Dialects() {
		e := newEnv(t, d)
		b := enginetest.Open(t, enginetest.JetStream)
		r := newReader(t, b, activities.TopicActivities)
		c := run(t, e.capture(t, e.cfg), b)
		e.waitReady(t, c)
		want := plainSQL(t, e.st.DB())
		r.until(len(want), c, time.Minute)
		r.settle(time.Minute)
		for _, m := range r.msgs {
			if len(m.Value) == 0 {
				shapes[d] = append(shapes[d], m.Key+" tombstone")
				continue
			}
			var ev map[string]any
			if err := json.Unmarshal(m.Value, &ev); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"source", "ts_ms", "ts_us", "ts_ns"} {
				delete(ev, k)
			}
			norm, _ := json.Marshal(ev)
			shapes[d] = append(shapes[d], m.Key+" "+string(norm)+" "+strings.Join(headerList(m.Headers), ","))
		}
		if err := c.stop(); err != nil {
			t.Fatal(err)
		}
	}
	if diff := diffLines(shapes[store.SQLite], shapes[store.Postgres]); diff != "" {
		t.Fatalf("SQLite's events (got) differ from PostgreSQL's (want):\n%s", diff)
	}
}

func headerList(h map[string]string) []string {
	var out []string
	for k, v := range h {
		out = append(out, k+"="+v)
	}
	return out
}

// TestSnapshotAndRestart: rows that exist before the first start arrive as
// read events, the first marked "first", the last "last", with lsn (and
// txId on PostgreSQL); a capture stopped and started again
// delivers the changes made meanwhile, and nothing twice.
func TestSnapshotAndRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d)
		b := enginetest.Open(t, enginetest.JetStream)
		r := newReader(t, b, activities.TopicActivities)
		w := newWriter(t, e.st, 1)
		want := w.initial(5)
		c := run(t, e.capture(t, e.cfg), b)
		got := r.until(len(want), c, time.Minute)
		// As Debezium marks them: "first", "true"..., "last".
		for i, ch := range got {
			snap := SnapshotTrue
			switch i {
			case 0:
				snap = SnapshotFirst
			case len(got) - 1:
				snap = SnapshotLast
			}
			if ch.Source.Snapshot != snap || !ch.IsSnapshot() {
				t.Errorf("snapshot event %d: source.snapshot %q, want %q", i, ch.Source.Snapshot, snap)
			}
			if ch.Source.LSN == nil || (d == store.Postgres && (ch.Source.TxID == nil || *ch.Source.TxID == 0)) {
				t.Errorf("snapshot event %d: source without lsn or txId: %+v", i, ch.Source)
			}
		}
		for range 3 {
			w.tx()
		}
		want = append(want, w.want...)
		r.until(len(want), c, time.Minute)
		if err := c.stop(); err != nil {
			t.Fatalf("stop the capture: %v", err)
		}

		// Changes made while the capture is down arrive after the restart.
		for range 3 {
			w.tx()
		}
		c = run(t, e.capture(t, e.cfg), b)
		for range 3 {
			w.tx()
		}
		want = append(want[:5], w.want...)
		r.until(len(want), c, time.Minute)
		r.fetch(300 * time.Millisecond)
		if diff := diffLines(lines(r.events()), want); diff != "" {
			t.Fatalf("events differ from the changes:\n%s", diff)
		}
		if dups := r.duplicates(); len(dups) > 0 {
			t.Errorf("the topic holds duplicates: %v", dups)
		}
		for _, ch := range r.events()[5:] {
			if ch.IsSnapshot() {
				t.Errorf("streamed event marked as snapshot: %+v", ch)
			}
		}
	})
}

// TestTombstones: each delete is followed by a message with the same key
// and no value; NoTombstones (tombstones.on.delete=false) leaves them out.
func TestTombstones(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		for _, off := range []bool{false, true} {
			e := newEnv(t, d)
			b := enginetest.Open(t, enginetest.JetStream)
			r := newReader(t, b, activities.TopicActivities)
			cfg := e.cfg
			cfg.NoTombstones = off
			c := run(t, e.capture(t, cfg), b)
			e.waitReady(t, c)
			ctx := context.Background()
			a := activities.Activity{ID: 7, EmployeeID: "emp-7", StartTime: utc("2024-05-01T07:30:00Z"), SportType: "run", Source: "api",
				UpdatedAt: utc("2024-05-01T08:00:00Z")}
			if err := activities.Upsert(ctx, e.st.DB(), a); err != nil {
				t.Fatal(err)
			}
			if err := activities.Delete(ctx, e.st.DB(), 7); err != nil {
				t.Fatal(err)
			}
			r.until(2, c, time.Minute)
			r.fetch(300 * time.Millisecond)
			var got []string
			for _, ch := range r.changes {
				got = append(got, line(ch.Op, ch.ID, ch.Before, ch.After)+" tombstone="+map[bool]string{true: "yes", false: "no"}[ch.Tombstone])
			}
			want := []string{
				line(OpCreate, 7, nil, &a) + " tombstone=no",
				line(OpDelete, 7, &a, nil) + " tombstone=no",
			}
			if !off {
				want = append(want, line("", 7, nil, nil)+" tombstone=yes")
			}
			if diff := diffLines(got, want); diff != "" {
				t.Fatalf("NoTombstones=%v: %s", off, diff)
			}
			checkTombstones(t, r.msgs, !off)
			if last := r.msgs[len(r.msgs)-1]; !off && (last.Key != `{"id":7}` || len(last.Value) != 0) {
				t.Errorf("tombstone: key %s value %q, want key {\"id\":7} and no value", last.Key, last.Value)
			}
			_ = c.stop()
		}
	})
}

// TestUpsertHelper: Upsert inserts then updates, and the capture sees an
// insert then an update.
func TestUpsertHelper(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d)
		ctx := context.Background()
		a := activities.Activity{ID: 9, EmployeeID: "emp-9", StartTime: time.Date(2024, 5, 1, 9, 30, 0, 123456789, time.FixedZone("CEST", 7200)),
			SportType: "ride", DistanceM: 20000, ElapsedS: 3000, Comment: "commute", Source: activities.SourceGenerator}
		if err := activities.Upsert(ctx, e.st.DB(), a); err != nil {
			t.Fatal(err)
		}
		a.Comment = "commute home"
		a.UpdatedAt = time.Date(2024, 5, 1, 18, 0, 0, 0, time.UTC)
		if err := activities.Upsert(ctx, e.st.DB(), a); err != nil {
			t.Fatal(err)
		}
		var got activities.Activity
		err := e.st.DB().QueryRowContext(ctx, `SELECT id, employee_id, start_time, sport_type, distance_m, elapsed_s, comment, source, updated_at
			FROM sport_activities WHERE id = 9`).Scan(&got.ID, &got.EmployeeID, &got.StartTime, &got.SportType, &got.DistanceM,
			&got.ElapsedS, &got.Comment, &got.Source, &got.UpdatedAt)
		if err != nil {
			t.Fatal(err)
		}
		a.StartTime = a.StartTime.UTC().Truncate(time.Microsecond)
		if activityString(&got) != activityString(&a) {
			t.Errorf("stored %s\nwant   %s", activityString(&got), activityString(&a))
		}
		if err := activities.Upsert(ctx, e.st.DB(), activities.Activity{ID: 10}); err == nil {
			t.Errorf("Upsert without a source succeeded")
		}
	})
}

// TestPostgresPsql: changes made by psql, another client, are captured.
func TestPostgresPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed")
	}
	e := newEnv(t, store.Postgres)
	b := enginetest.Open(t, enginetest.JetStream)
	r := newReader(t, b, activities.TopicActivities)
	c := run(t, e.capture(t, e.cfg), b)
	e.waitReady(t, c)

	u, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	cmd := exec.Command(psql, u.String(), "-v", "ON_ERROR_STOP=1", "-X", "-q", "-c", `BEGIN;
		INSERT INTO sport_activities (id, employee_id, start_time, sport_type, distance_m, elapsed_s, comment, source, updated_at)
		VALUES (21, 'emp-021', '2024-06-01 07:00:00+02', 'walk', 3000, 2400, 'from psql', 'api', '2024-06-01 06:00:00+00');
		UPDATE sport_activities SET distance_m = 3100 WHERE id = 21;
		COMMIT;
		DELETE FROM sport_activities WHERE id = 21;`)
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+schema)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	a := activities.Activity{ID: 21, EmployeeID: "emp-021", StartTime: utc("2024-06-01T05:00:00Z"), SportType: "walk", DistanceM: 3000,
		ElapsedS: 2400, Comment: "from psql", Source: "api", UpdatedAt: utc("2024-06-01T06:00:00Z")}
	a2 := a
	a2.DistanceM = 3100
	want := []string{line(OpCreate, 21, nil, &a), line(OpUpdate, 21, &a, &a2), line(OpDelete, 21, &a2, nil)}
	if diff := diffLines(lines(r.until(3, c, time.Minute)), want); diff != "" {
		t.Fatalf("%s", diff)
	}
	// Events of one transaction share its id, and are ordered in it.
	if *r.events()[0].Source.TxID != *r.events()[1].Source.TxID || *r.events()[1].Source.TxID == *r.events()[2].Source.TxID {
		t.Errorf("transaction ids %d %d %d: want the first two equal", *r.events()[0].Source.TxID, *r.events()[1].Source.TxID, *r.events()[2].Source.TxID)
	}
}

// TestConfig checks names and defaults.
func TestConfig(t *testing.T) {
	for _, name := range []string{"Bad", "a-b", strings.Repeat("x", 51)} {
		if _, err := (Config{Name: name}).withDefaults(); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	cfg, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Name: "activities", Topic: activities.TopicActivities, ServerName: "sportsdata", MaxBatch: DefaultMaxBatch,
		StatusInterval: DefaultStatusInterval, PollInterval: DefaultPollInterval, HeartbeatInterval: DefaultHeartbeat, Logger: cfg.Logger}
	if !reflect.DeepEqual(cfg, want) || cfg.Slot() != "podium_activities" {
		t.Errorf("defaults %+v, slot %s", cfg, cfg.Slot())
	}
	if _, err := NewPostgres(Config{URL: "sqlite://x.db"}); err == nil {
		t.Errorf("NewPostgres accepted a SQLite URL")
	}
	if _, err := NewSQLite(storetest.Open(t, store.SQLite), Config{Name: "ok"}); err != nil {
		t.Errorf("NewSQLite: %v", err)
	}
}

// TestPostgresConnectionLoss: the server closes the replication connection
// in the middle of the stream; Run returns an error, and a capture started
// again delivers every change once.
func TestPostgresConnectionLoss(t *testing.T) {
	e := newEnv(t, store.Postgres)
	b := enginetest.Open(t, enginetest.JetStream)
	r := newReader(t, b, activities.TopicActivities)
	w := newWriter(t, e.st, 3)
	want := w.initial(20)
	c := run(t, e.capture(t, e.cfg), b)
	e.waitReady(t, c)
	for range 100 {
		w.tx()
	}
	if _, err := e.st.DB().Exec(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1`, e.cfg.Slot()); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		w.tx()
	}
	select {
	case err := <-c.done:
		if err == nil {
			t.Fatalf("Run returned no error after losing its connection")
		}
		t.Logf("Run returned: %v", err)
		c.once.Do(func() {}) // expected: nothing for the cleanup to report
	case <-time.After(time.Minute):
		t.Fatalf("Run did not notice the loss of its connection")
	}
	c = run(t, e.capture(t, e.cfg), b)
	for range 50 {
		w.tx()
	}
	want = append(want, w.want...)
	r.until(len(want), c, time.Minute)
	r.fetch(300 * time.Millisecond)
	if diff := diffLines(lines(r.events()), want); diff != "" {
		t.Fatalf("events differ from the changes:\n%s", diff)
	}
}

// TestPostgresDebeziumCases: the capture's own events for what Debezium
// users meet: REPLICA IDENTITY DEFAULT (updates without before, deletes
// with only the key) and TRUNCATE.
func TestPostgresDebeziumCases(t *testing.T) {
	e := newEnv(t, store.Postgres)
	b := enginetest.Open(t, enginetest.JetStream)
	r := newReader(t, b, activities.TopicActivities)
	c := run(t, e.capture(t, e.cfg), b)
	e.waitReady(t, c)
	ctx := context.Background()
	a := activities.Activity{ID: 5, EmployeeID: "emp-5", StartTime: utc("2024-05-01T07:30:00Z"), SportType: "run", Source: "api",
		UpdatedAt: utc("2024-05-01T08:00:00Z")}
	for _, q := range []string{`ALTER TABLE sport_activities REPLICA IDENTITY DEFAULT`} {
		if _, err := e.st.DB().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := activities.Upsert(ctx, e.st.DB(), a); err != nil {
		t.Fatal(err)
	}
	a2 := a
	a2.Comment = "edited"
	if err := activities.Upsert(ctx, e.st.DB(), a2); err != nil {
		t.Fatal(err)
	}
	if err := activities.Delete(ctx, e.st.DB(), 5); err != nil {
		t.Fatal(err)
	}
	if err := activities.Upsert(ctx, e.st.DB(), a); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().ExecContext(ctx, `TRUNCATE sport_activities`); err != nil {
		t.Fatal(err)
	}
	got := r.until(5, c, time.Minute)
	want := []string{
		line(OpCreate, 5, nil, &a),
		line(OpUpdate, 5, nil, &a2),
		line(OpDelete, 5, &activities.Activity{ID: 5}, nil),
		line(OpCreate, 5, nil, &a),
		line(OpTruncate, 0, nil, nil),
	}
	if diff := diffLines(lines(got), want); diff != "" {
		t.Fatalf("%s", diff)
	}
	if !got[2].BeforeKeyOnly {
		t.Errorf("the delete's before is not key-only")
	}
	if m := r.valued()[4]; m.Key != "" {
		t.Errorf("truncate event key %q, want none", m.Key)
	}
}

// TestSchemaPart: with Config.Schema, keys and values carry the JSON
// converter's schema part, which Decode reads.
func TestSchemaPart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d)
		b := enginetest.Open(t, enginetest.JetStream)
		r := newReader(t, b, activities.TopicActivities)
		cfg := e.cfg
		cfg.Schema = true
		c := run(t, e.capture(t, cfg), b)
		e.waitReady(t, c)
		want := plainSQL(t, e.st.DB())
		if diff := diffLines(lines(r.until(len(want), c, time.Minute)), want); diff != "" {
			t.Fatalf("%s", diff)
		}
		var value struct {
			Schema struct {
				Name   string `json:"name"`
				Fields []struct {
					Field  string `json:"field"`
					Fields []struct {
						Field    string `json:"field"`
						Type     string `json:"type"`
						Name     string `json:"name"`
						Optional bool   `json:"optional"`
					} `json:"fields"`
				} `json:"fields"`
			} `json:"schema"`
			Payload json.RawMessage `json:"payload"`
		}
		m := r.msgs[0]
		if err := json.Unmarshal(m.Value, &value); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(value.Schema.Name, "sportsdata.") || !strings.HasSuffix(value.Schema.Name, ".sport_activities.Envelope") ||
			len(value.Schema.Fields) < 2 || value.Schema.Fields[1].Field != "after" || len(value.Payload) == 0 {
			t.Fatalf("value without its schema part: %s", m.Value)
		}
		types := map[string]string{}
		for _, f := range value.Schema.Fields[1].Fields {
			types[f.Field] = f.Type + " " + f.Name
			if f.Optional {
				t.Errorf("column %s is NOT NULL but optional in the schema", f.Field)
			}
		}
		for col, want := range map[string]string{"id": "int64 ", "start_time": "string io.debezium.time.ZonedTimestamp",
			"distance_m": "double ", "comment": "string "} {
			if types[col] != want {
				t.Errorf("column %s: schema %q, want %q", col, types[col], want)
			}
		}
		if id, ok, err := DecodeKey([]byte(m.Key)); err != nil || !ok || id != 1 || !strings.HasPrefix(m.Key, `{"schema":`) {
			t.Errorf("key %s: id %d, %v, %v", m.Key, id, ok, err)
		}
	})
}

// flaky fails its first run and then runs until its context ends.
type flaky struct{ runs atomic.Int32 }

func (f *flaky) Run(ctx context.Context, _ bus.Bus) error {
	if f.runs.Add(1) == 1 {
		return errors.New("connection refused")
	}
	<-ctx.Done()
	return nil
}

func TestSupervise(t *testing.T) {
	f := &flaky{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Supervise(ctx, f, nil, testLogger())
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for f.runs.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the failed capture was not started again")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

// TestNew picks the capture of the store's database.
func TestNew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		url := storetest.URL(t, d)
		s, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		c, err := New(s, Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		switch c.(type) {
		case *Postgres:
			if d != store.Postgres {
				t.Errorf("a PostgreSQL capture for a %s store", d)
			}
		case *SQLite:
			if d != store.SQLite {
				t.Errorf("a SQLite capture for a %s store", d)
			}
		}
	})
}
