package lake_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/commute"
	"github.com/podiumhq/podium/internal/activities/generate"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

const year = 2025

// message builds a change event as a Debezium connector writes it.
func message(t testing.TB, topic string, op cdc.Op, id int64, before, after *activities.Activity) *bus.Message {
	t.Helper()
	raw := func(a *activities.Activity) json.RawMessage {
		if a == nil {
			return nil
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ev := cdc.Event{Op: op, Before: raw(before), After: raw(after), TsMs: 1_750_000_000_000 + id%1000,
		Source: cdc.Source{Version: "test", Connector: "postgresql", Name: "sportsdata", Schema: "public", Table: activities.Table,
			TsMs: 1_750_000_000_000}}
	if op == cdc.OpMessage {
		ev.Message = &cdc.LogicalMessage{Prefix: "test", Content: []byte("hello")}
	}
	v, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return &bus.Message{Topic: topic, Key: fmt.Sprintf(`{"id":%d}`, id), Value: v}
}

// fixture is a store with the sample HR register and commutes, a bus, and
// a stream of change events: a year of activities read by a snapshot, then
// updates (one in 40 moving the activity to another employee and year),
// deletes (key-only before images), tombstones, a logical message and new
// activities.
type fixture struct {
	store   *store.Store
	bus     bus.Bus
	events  []func(topic string) *bus.Message
	wh      string
	metrics *stream.Metrics // of every run of the sink
	// stopRun stops the running sink at once (set by runSink).
	stopRun context.CancelFunc
}

func setup(t testing.TB, d store.Dialect, e enginetest.Engine, n int) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{store: storetest.Open(t, d), bus: enginetest.Open(t, e), wh: filepath.Join(t.TempDir(), "warehouse"),
		metrics: stream.NewMetrics(nil)}
	if _, err := hr.ImportSample(ctx, f.store); err != nil {
		t.Fatalf("import the sample register: %v", err)
	}
	if err := commute.Migrate(ctx, f.store); err != nil {
		t.Fatal(err)
	}
	if _, err := commute.Check(ctx, f.store.DB(), commute.Offline{}, commute.SampleOffice()); err != nil {
		t.Fatalf("commute check: %v", err)
	}
	reg, err := hr.Load(ctx, f.store.DB())
	if err != nil {
		t.Fatal(err)
	}
	var emps []generate.Employee
	for _, e := range reg.Employees {
		emps = append(emps, generate.Employee{ID: e.ID, Sports: e.Sports})
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	acts, err := generate.Year(emps, generate.Config{Year: year, Seed: 7, Location: paris})
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 && n < len(acts) {
		acts = acts[:n]
	}
	ev := func(op cdc.Op, id int64, before, after *activities.Activity) {
		f.events = append(f.events, func(topic string) *bus.Message { return message(t, topic, op, id, before, after) })
	}
	for i := range acts {
		acts[i].UpdatedAt = acts[i].StartTime.Add(time.Hour)
		a := acts[i]
		ev(cdc.OpRead, a.ID, nil, &a)
	}
	ev(cdc.OpMessage, 0, nil, nil)
	for i := range acts {
		a := acts[i]
		switch {
		case i%11 == 3:
			ev(cdc.OpDelete, a.ID, &activities.Activity{ID: a.ID}, nil)
			f.events = append(f.events, func(topic string) *bus.Message {
				return &bus.Message{Topic: topic, Key: fmt.Sprintf(`{"id":%d}`, a.ID)}
			})
		case i%40 == 5:
			b := a
			b.EmployeeID = acts[(i+97)%len(acts)].EmployeeID
			b.StartTime = time.Date(year+1, 1, 2, 8, 0, 0, 0, time.UTC)
			b.UpdatedAt = b.StartTime
			ev(cdc.OpUpdate, a.ID, &a, &b)
		case i%7 == 1:
			b := a
			b.SportType, b.DistanceM = "Rowing", a.DistanceM+1234.5
			b.UpdatedAt = a.UpdatedAt.Add(time.Minute)
			ev(cdc.OpUpdate, a.ID, &a, &b)
		}
	}
	for i := range 5 {
		a := acts[i*3]
		a.ID = generate.LiveIDBase + int64(i)
		a.SportType = "Walk"
		ev(cdc.OpCreate, a.ID, nil, &a)
	}
	return f
}

// publish sends the fixture's events to topic, in order.
func (f *fixture) publish(t testing.TB, topic string) {
	t.Helper()
	var msgs []*bus.Message
	for i, e := range f.events {
		m := e(topic)
		m.ID = fmt.Sprintf("%s/%d", topic, i)
		msgs = append(msgs, m)
	}
	for start := 0; start < len(msgs); start += 500 {
		if err := f.bus.Publish(context.Background(), msgs[start:min(start+500, len(msgs))]...); err != nil {
			t.Fatal(err)
		}
	}
}

// end returns the next offset of each partition of topic.
func (f *fixture) end(t testing.TB, topic string) lake.Positions {
	t.Helper()
	infos, err := f.bus.Topics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := lake.Positions{}
	for _, ti := range infos {
		if ti.Name == topic {
			for _, p := range ti.Partitions {
				if p.End > p.Start {
					out[p.ID] = p.End
				}
			}
		}
	}
	return out
}

func (f *fixture) openLake(t testing.TB) *lakehouse.Lake {
	t.Helper()
	l, err := lakehouse.Open(context.Background(), f.store.DB(), lakehouse.Dialect(f.store.Dialect()), lakehouse.Config{Warehouse: f.wh})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// caughtUp reports whether every table of the sink holds the topic up to end.
func (f *fixture) caughtUp(t testing.TB, l *lakehouse.Lake, end lake.Positions) bool {
	t.Helper()
	for _, name := range lake.Tables {
		tb, err := l.Table(context.Background(), name)
		if errors.Is(err, lakehouse.ErrNoSuchTable) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		v, ok := tb.LastProperty(lake.PropPositions)
		if !ok {
			return false
		}
		p, err := lake.ParsePositions(v)
		if err != nil {
			t.Fatal(err)
		}
		for part, next := range end {
			if p[part] < next {
				return false
			}
		}
	}
	return true
}

func (f *fixture) config(h *lake.Hooks) lake.Config {
	return lake.Config{Lake: lakehouse.Config{Warehouse: f.wh}, Policy: rewards.DefaultPolicy(), MaxEvents: 700,
		CommitInterval: 20 * time.Millisecond, Hooks: h}
}

// runSink runs the sink until stop says so or it fails; it returns the
// sink's error.
func runSink(t testing.TB, f *fixture, cfg lake.Config, stop func() bool) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.stopRun = cancel
	errc := make(chan error, 1)
	go func() {
		errc <- lake.Runnable(cfg).Run(ctx, stream.Env{Bus: f.bus, Store: f.store, Metrics: f.metrics})
	}()
	deadline := time.After(2 * time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-errc:
			return err
		case <-deadline:
			t.Fatal("the sink did not catch up in 2 minutes")
		case <-tick.C:
			if stop() {
				cancel()
				return <-errc
			}
		}
	}
}

// rewardsTables publishes the events to the rewards processor's topic, runs
// it and returns the topic, activities_gold and activities_current.
// It runs the rewards processor on the same events.
func rewardsTables(t *testing.T, f *fixture) (topic string, gold, silver [][]any) {
	t.Helper()
	topic = rewards.Processor(rewards.DefaultPolicy(), nil).Spec().Topic
	f.publish(t, topic)
	runRewards(t, f, 1000)
	gold, silver = f.sqlTables(t)
	return topic, gold, silver
}

// runRewards runs the rewards processor, in batches of up to maxBatch
// events, until it has handled its topic to the end.
func runRewards(t *testing.T, f *fixture, maxBatch int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	proc := rewards.Processor(rewards.DefaultPolicy(), nil)
	topic := proc.Spec().Topic
	end := f.end(t, topic)
	if err := stream.Migrate(ctx, f.store, proc.Spec()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- proc.Run(ctx, stream.Env{Bus: f.bus, Store: f.store, MaxBatch: maxBatch}) }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ok := true
		for part, next := range end {
			n, err := stream.Position(ctx, f.store.DB(), rewards.Name, topic, part)
			if err != nil {
				t.Fatal(err)
			}
			ok = ok && n >= next
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rewards processor did not catch up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// sqlTables returns activities_gold (the columns of lake.GoldColumns, with
// bonus_cents for bonus_eur) and activities_current.
func (f *fixture) sqlTables(t *testing.T) (gold, silver [][]any) {
	t.Helper()
	query := func(q string, n int) [][]any {
		rows, err := f.store.DB().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out [][]any
		for rows.Next() {
			vals := make([]any, n)
			ptrs := make([]any, n)
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, vals)
		}
		return out
	}
	gold = query(`SELECT employee_id, year, business_unit, activities, distance_m, distance_km, sports, commute_mode,
		commute_km, bonus_eligible, bonus_cents, declaration_flag, wellness_days FROM activities_gold ORDER BY employee_id, year`, 13)
	silver = query(`SELECT id, employee_id, start_time, local_year, local_month, sport_type, distance_m, elapsed_s,
		source, updated_at FROM activities_current ORDER BY id`, 10)
	return gold, silver
}

// same compares a value read from SQL with one read from the lake.
func same(sqlv, lakev any) bool {
	switch l := lakev.(type) {
	case nil:
		return sqlv == nil
	case float64:
		// Exact: the sums are in whole metres (rewards.Meters).
		s, ok := toFloat(sqlv)
		return ok && s == l
	case int32:
		s, ok := toFloat(sqlv)
		return ok && s == float64(l)
	case int64:
		s, ok := toFloat(sqlv)
		return ok && s == float64(l)
	case bool:
		switch s := sqlv.(type) {
		case bool:
			return s == l
		case int64:
			return (s != 0) == l
		}
	case string:
		switch s := sqlv.(type) {
		case string:
			return s == l
		case []byte:
			return string(s) == l
		}
	case time.Time:
		switch s := sqlv.(type) {
		case time.Time:
			return s.Equal(l)
		case string:
			for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano} {
				if p, err := time.Parse(layout, s); err == nil {
					return p.Equal(l)
				}
			}
		}
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	}
	return 0, false
}

func compare(t *testing.T, what string, want [][]any, got []lakehouse.Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows in the lake, %d in the store", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		for j := range want[i] {
			if !same(want[i][j], got[i][j]) {
				if bad < 5 {
					t.Errorf("%s row %d column %d: lake %v (%T), store %v (%T)", what, i, j, got[i][j], got[i][j], want[i][j], want[i][j])
				}
				bad++
			}
		}
	}
}

func scanSorted(t *testing.T, l *lakehouse.Lake, name string, less func(a, b lakehouse.Row) bool) []lakehouse.Row {
	t.Helper()
	tb, err := l.Table(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tb.Scan(context.Background(), lakehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool { return less(rows[i], rows[j]) })
	return rows
}

// crash is what a hook returns to stop the sink as a crash would.
var errCrash = errors.New("simulated crash")

// TestSink runs the sink over the same change events uninterrupted, then
// stopped and crashed at several points and restarted, and checks every
// time that bronze holds each event once, that silver and gold equal the
// rewards processor's activities_current and activities_gold, and that the
// history reads back.
func TestSink(t *testing.T) {
	type stage struct {
		table string
		batch int // 1-based: the batch's commit to table
	}
	cases := []struct {
		name  string
		crash []stage // each run stops after these commits
		stop  bool    // cancel instead of failing
	}{
		{name: "uninterrupted"},
		{name: "crash after bronze", crash: []stage{{lake.TableBronze, 2}}},
		{name: "crash after silver", crash: []stage{{lake.TableSilver, 3}, {lake.TableSilver, 2}}},
		{name: "crash after gold", crash: []stage{{lake.TableGold, 1}}},
		{name: "stopped", crash: []stage{{lake.TableGold, 2}}, stop: true},
	}
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		for _, c := range cases {
			if d == store.Postgres && c.name != "uninterrupted" && c.name != "crash after silver" {
				continue // the crash paths are the sink's, not the store's: SQLite covers them
			}
			t.Run(c.name, func(t *testing.T) {
				f := setup(t, d, enginetest.JetStream, 3000)
				rewardsTopic, wantGold, wantSilver := rewardsTables(t, f)
				topic := activities.TopicValidated
				if rewardsTopic != topic {
					f.publish(t, topic)
				}
				end := f.end(t, topic)
				l := f.openLake(t)
				for _, s := range c.crash {
					var mu sync.Mutex
					commits := map[string]int{}
					stopped := false
					var cancelled bool
					h := &lake.Hooks{AfterCommit: func(table string, _ []*bus.Message) error {
						mu.Lock()
						defer mu.Unlock()
						commits[table]++
						if table == s.table && commits[table] == s.batch {
							stopped = true
							if !c.stop {
								return errCrash
							}
							f.stopRun() // at once: the poll would let more batches in
						}
						return nil
					}}
					err := runSink(t, f, f.config(h), func() bool {
						mu.Lock()
						defer mu.Unlock()
						cancelled = stopped
						return stopped || f.caughtUp(t, l, end)
					})
					if c.stop {
						mu.Lock()
						cancelled = stopped
						mu.Unlock()
						if err != nil || !cancelled {
							t.Fatalf("stopped run: %v (stopped %v)", err, cancelled)
						}
					} else if !errors.Is(err, errCrash) {
						t.Fatalf("crashing run ended with %v, want the simulated crash", err)
					}
					if f.caughtUp(t, l, end) {
						t.Fatalf("the run stopped at %+v had caught up already: make the batches smaller", s)
					}
				}
				if err := runSink(t, f, f.config(nil), func() bool { return f.caughtUp(t, l, end) }); err != nil {
					t.Fatal(err)
				}
				// The sink's batches count in the metrics and show on the
				// pipeline page.
				var counted int
				for _, b := range f.metrics.Recent() {
					if b.Processor == lake.Name && b.Topic == topic {
						counted += b.Size
					}
				}
				if len(c.crash) == 0 && counted != len(f.events) {
					t.Errorf("the sink's recorded batches hold %d events, want %d", counted, len(f.events))
				}

				// Bronze: every event once, in offset order.
				bronze := scanSorted(t, l, lake.TableBronze, func(a, b lakehouse.Row) bool { return a[7].(int64) < b[7].(int64) })
				if len(bronze) != len(f.events) {
					t.Errorf("bronze has %d events, %d were published", len(bronze), len(f.events))
				}
				first := end[0] - int64(len(f.events))
				for i, r := range bronze {
					if r[7].(int64) != first+int64(i) {
						t.Fatalf("bronze row %d has offset %d, want %d: an event is missing or twice", i, r[7], first+int64(i))
					}
				}
				ops := map[string]int{}
				for _, r := range bronze {
					ops[r[1].(string)]++
					if r[14] != "" {
						t.Errorf("bronze row at offset %d: decode error %v", r[7], r[14])
					}
				}
				// Tombstones have no op.
				if ops["r"] == 0 || ops["u"] == 0 || ops["d"] == 0 || ops["c"] != 5 || ops["m"] != 1 || ops[""] != ops["d"] {
					t.Errorf("bronze ops = %v", ops)
				}
				silver := scanSorted(t, l, lake.TableSilver, func(a, b lakehouse.Row) bool { return a[0].(int64) < b[0].(int64) })
				compare(t, "silver", wantSilver, silver)
				gold := scanSorted(t, l, lake.TableGold, func(a, b lakehouse.Row) bool {
					if a[0] != b[0] {
						return a[0].(string) < b[0].(string)
					}
					return a[1].(int32) < b[1].(int32)
				})
				compare(t, "gold", wantGold, gold)
				var years []int32
				for _, g := range gold {
					years = append(years, g[1].(int32))
				}
				if !containsBoth(years, year, year+1) {
					t.Errorf("gold years %v: want %d and %d (moved activities)", years, year, year+1)
				}

				// History: the first silver snapshot holds the first batch only.
				st, _ := l.Table(context.Background(), lake.TableSilver)
				h := st.History()
				if len(h) < 2 {
					t.Fatalf("silver history has %d snapshots", len(h))
				}
				old, err := st.Scan(context.Background(), lakehouse.ScanOptions{SnapshotID: h[0].ID})
				if err != nil {
					t.Fatal(err)
				}
				if n := h[0].Summary[lake.PropEvents]; len(old) == 0 || len(old) > 700 || n == "" {
					t.Errorf("first silver snapshot: %d rows, %s events", len(old), n)
				}
				for _, name := range lake.Tables {
					tb, _ := l.Table(context.Background(), name)
					for _, s := range tb.History() {
						if s.Summary[lake.PropPositions] == "" || s.Summary[lake.PropTopic] != topic {
							t.Errorf("%s snapshot %d lacks the positions: %v", name, s.ID, s.Summary)
						}
					}
				}
			})
		}
	})
}

func containsBoth(ys []int32, a, b int) bool {
	var sa, sb bool
	for _, y := range ys {
		sa = sa || int(y) == a
		sb = sb || int(y) == b
	}
	return sa && sb
}

func TestPositions(t *testing.T) {
	p, err := lake.ParsePositions(`{"0":5,"2":9}`)
	if err != nil || !reflect.DeepEqual(p, lake.Positions{0: 5, 2: 9}) {
		t.Fatalf("parse = %v, %v", p, err)
	}
	if s := p.String(); s != `{"0":5,"2":9}` {
		t.Errorf("string = %s", s)
	}
	msgs := []*bus.Message{{Partition: 0, Offset: 4}, {Partition: 0, Offset: 5}, {Partition: 1, Offset: 0}, {Partition: 2, Offset: 8}}
	if got := p.Fresh(msgs); len(got) != 2 || got[0].Offset != 5 || got[1].Partition != 1 {
		t.Errorf("fresh = %v", got)
	}
	if got := p.After(msgs); !reflect.DeepEqual(got, lake.Positions{0: 6, 1: 1, 2: 9}) {
		t.Errorf("after = %v", got)
	}
	if got := lake.Min(lake.Positions{0: 5, 1: 3}, lake.Positions{0: 7}); !reflect.DeepEqual(got, lake.Positions{0: 5, 1: 0}) {
		t.Errorf("min = %v", got)
	}
	for _, bad := range []string{`x`, `{"a":1}`} {
		if _, err := lake.ParsePositions(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestSinkMaintainsTables runs the sink with small batches, maintenance
// after every batch, a retention of nothing and compaction beyond 5 small
// files: each table keeps its last RetainSnapshots snapshots and few files,
// the tables still equal the rewards processor's (read with the
// independent reader too), and a restart reads no event twice: the
// maintenance snapshots kept the positions.
func TestSinkMaintainsTables(t *testing.T) {
	f := setup(t, store.SQLite, enginetest.JetStream, 2000)
	rewardsTopic, wantGold, wantSilver := rewardsTables(t, f)
	topic := activities.TopicValidated
	if rewardsTopic != topic {
		f.publish(t, topic)
	}
	end := f.end(t, topic)
	l := f.openLake(t)
	cfg := f.config(nil)
	cfg.MaxEvents, cfg.Retention, cfg.MaintainEvery, cfg.CompactFiles = 100, time.Nanosecond, time.Nanosecond, 5
	if err := runSink(t, f, cfg, func() bool { return f.caughtUp(t, l, end) }); err != nil {
		t.Fatal(err)
	}
	for _, name := range lake.Tables {
		tb, err := l.Table(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		// The last batch may have come after the last maintenance.
		if n := len(tb.History()); n == 0 || n > lake.RetainSnapshots+1 {
			t.Errorf("%s keeps %d snapshots, want 1 to %d", name, n, lake.RetainSnapshots+1)
		}
		files, err := tb.Files(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) > 5+3 {
			t.Errorf("%s has %d live files after compaction beyond 5", name, len(files))
		}
		if _, ok := tb.LastProperty(lake.PropPositions); !ok {
			t.Errorf("%s lost its positions", name)
		}
	}
	silver := scanSorted(t, l, lake.TableSilver, func(a, b lakehouse.Row) bool { return a[0].(int64) < b[0].(int64) })
	compare(t, "silver", wantSilver, silver)
	gold := scanSorted(t, l, lake.TableGold, func(a, b lakehouse.Row) bool {
		if a[0] != b[0] {
			return a[0].(string) < b[0].(string)
		}
		return a[1].(int32) < b[1].(int32)
	})
	compare(t, "gold", wantGold, gold)
	diff(t, "lake gold (independent reader)", sqlGold(t, f.store.DB()), lakeGold(t, l))

	// Restart: nothing is read twice.
	bronze := func() int {
		tb, err := l.Table(context.Background(), lake.TableBronze)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := tb.Scan(context.Background(), lakehouse.ScanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return len(rows)
	}
	if n := bronze(); n != len(f.events) {
		t.Fatalf("bronze holds %d events, %d were published", n, len(f.events))
	}
	m := message(t, topic, cdc.OpMessage, 0, nil, nil)
	m.ID = "after-restart"
	if err := f.bus.Publish(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	end = f.end(t, topic)
	if err := runSink(t, f, cfg, func() bool { return f.caughtUp(t, l, end) }); err != nil {
		t.Fatal(err)
	}
	if n := bronze(); n != len(f.events)+1 {
		t.Errorf("after a restart and one more event bronze holds %d events, want %d", n, len(f.events)+1)
	}
}

// TestSinkLagAndRebuild: the sink is a stage like any other: its lag is the
// topic's end minus the positions its tables committed (0 once caught up,
// not the topic's size), and podium rebuild drops its tables and replays
// the topic into tables equal to the first run's.
func TestSinkLagAndRebuild(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
		f := setup(t, store.SQLite, e, 800)
		topic := activities.TopicValidated
		f.publish(t, topic)
		end := f.end(t, topic)
		l := f.openLake(t)
		cfg := f.config(nil)
		spec := lake.Runnable(cfg).Spec()
		env := stream.Env{Bus: f.bus, Store: f.store}
		lags := func() stream.Progress {
			t.Helper()
			ps, err := stream.Lags(context.Background(), f.bus, f.store.DB(), []stream.Spec{spec})
			if err != nil {
				t.Fatal(err)
			}
			return ps[0]
		}
		if err := stream.Migrate(context.Background(), f.store, spec); err != nil {
			t.Fatal(err)
		}
		if p := lags(); p.Lag != int64(len(f.events)) {
			t.Fatalf("before the sink ran, lag = %d, want the %d events", p.Lag, len(f.events))
		}
		if err := runSink(t, f, cfg, func() bool { return f.caughtUp(t, l, end) }); err != nil {
			t.Fatal(err)
		}
		if p := lags(); p.Lag != 0 {
			t.Fatalf("after the sink caught up, lag = %d, want 0 (positions %v)", p.Lag, p.Next)
		}
		before := map[string][]lakehouse.Row{}
		for _, name := range []string{lake.TableSilver, lake.TableGold} {
			before[name] = scanAll(t, l, name)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := ops.Rebuild(ctx, env, lake.Runnable(cfg), nil); err != nil {
			t.Fatalf("rebuild: %v", err)
		}
		if p := lags(); p.Lag != 0 {
			t.Fatalf("after the rebuild, lag = %d, want 0", p.Lag)
		}
		for name, want := range before {
			if got := scanAll(t, l, name); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s after the rebuild differs from the first run's (%d rows, want %d)", name, len(got), len(want))
			}
		}
		tb, err := l.Table(context.Background(), lake.TableBronze)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := tb.Scan(context.Background(), lakehouse.ScanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(f.events) {
			t.Fatalf("bronze holds %d events after the rebuild, want %d (each once)", len(rows), len(f.events))
		}
	})
}

// scanAll returns the rows of a table, sorted by their text.
func scanAll(t *testing.T, l *lakehouse.Lake, name string) []lakehouse.Row {
	t.Helper()
	tb, err := l.Table(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tb.Scan(context.Background(), lakehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool { return fmt.Sprint(rows[i]) < fmt.Sprint(rows[j]) })
	return rows
}

// TestBronzeTakesRepublishedEventsOnce: an event published again with its
// id (a crashed stage upstream publishing its batch a second time; Kafka
// keeps both copies) is appended to bronze once, also after a restart of
// the sink between the two copies.
func TestBronzeTakesRepublishedEventsOnce(t *testing.T) {
	f := setup(t, store.SQLite, enginetest.Kafka, 300)
	topic := activities.TopicValidated
	f.publish(t, topic)
	l := f.openLake(t)
	cfg := f.config(nil)
	if err := runSink(t, f, cfg, func() bool { return f.caughtUp(t, l, f.end(t, topic)) }); err != nil {
		t.Fatal(err)
	}
	// The last 120 events again, and again within one batch.
	var again []*bus.Message
	for i, e := range f.events[len(f.events)-120:] {
		m := e(topic)
		m.ID = fmt.Sprintf("%s/%d", topic, len(f.events)-120+i)
		again = append(again, m, m)
	}
	if err := f.bus.Publish(context.Background(), again...); err != nil {
		t.Fatal(err)
	}
	end := f.end(t, topic)
	if err := runSink(t, f, cfg, func() bool { return f.caughtUp(t, l, end) }); err != nil {
		t.Fatal(err)
	}
	rows := scanAll(t, l, lake.TableBronze)
	ids := map[any]int{}
	for _, r := range rows {
		ids[r[0]]++
	}
	if len(rows) != len(f.events) || len(ids) != len(f.events) {
		t.Fatalf("bronze holds %d rows of %d events, want each of the %d events once", len(rows), len(ids), len(f.events))
	}
}
