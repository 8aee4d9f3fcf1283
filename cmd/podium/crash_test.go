package main

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/generate"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/hr/hrtest"
	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// TestKillNineWithEveryStageKind runs the activities stages — table
// (quality, rewards), effect (Slack) and sink (the lakehouse) — in a
// worker that is killed with SIGKILL at random points and restarted, and
// compares what it leaves with an uninterrupted run's: the SQL tables, the
// lake's rows, the Slack ledger. No message Slack got twice may belong to a
// call the ledger had as sent: only a call in flight when the worker died
// may be made again.
func TestKillNineWithEveryStageKind(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the crash runs in -short mode")
	}
	events := crashEvents(t)
	for _, tc := range []struct {
		name    string
		engine  enginetest.Engine
		dialect store.Dialect
	}{
		{"sqlite+jetstream", enginetest.JetStream, store.SQLite},
		{"postgres+kafka", enginetest.Kafka, store.Postgres},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			t.Logf("kill points drawn with seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 7))
			want := crashRun(t, tc.engine, tc.dialect, events, nil)
			got := crashRun(t, tc.engine, tc.dialect, events, func() time.Duration {
				return time.Duration(100+rng.IntN(900)) * time.Millisecond
			})
			for _, part := range []string{"sql", "lake", "ledger"} {
				if got.parts[part] != want.parts[part] {
					t.Errorf("after kills, %s differs from an uninterrupted run's:\n%s", part, firstDiff(got.parts[part], want.parts[part]))
				}
			}
			if want.resent != 0 {
				t.Errorf("the uninterrupted run made %d calls twice", want.resent)
			}
			if got.resent > got.kills {
				t.Errorf("%d calls made twice in %d kills: more than the one in flight at each kill", got.resent, got.kills)
			}
			t.Logf("%d kills; %d calls made twice (in flight when killed)", got.kills, got.resent)
		})
	}
}

// crashEvents returns the raw change events of the run: a snapshot of
// 1,500 activities of last year, 20 live new ones (congratulated in Slack),
// updates, deletes with their tombstones and a quarantined event.
func crashEvents(t *testing.T) []*bus.Message {
	t.Helper()
	s := storetest.Open(t, store.SQLite)
	reg := hrtest.Sample(t, s)
	var emps []generate.Employee
	for _, e := range reg.Employees {
		emps = append(emps, generate.Employee{ID: e.ID, Sports: []string{"Run", "Ride", "Walk"}})
	}
	acts, err := generate.Year(emps, generate.Config{Year: time.Now().Year() - 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	acts = acts[:1500]
	var msgs []*bus.Message
	add := func(op cdc.Op, id int64, before, after *activities.Activity) {
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
		lsn := int64(len(msgs) + 1)
		ev := cdc.Event{Op: op, Before: raw(before), After: raw(after), TsMs: 1_780_000_000_000 + lsn,
			Source: cdc.Source{Version: "test", Connector: "postgresql", Name: "sportsdata", Schema: "public",
				Table: activities.Table, TsMs: 1_780_000_000_000, LSN: &lsn}}
		if op == cdc.OpRead {
			ev.Source.Snapshot = cdc.SnapshotTrue
		}
		v, err := ev.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, &bus.Message{Topic: activities.TopicActivities, Key: fmt.Sprintf(`{"id":%d}`, id), Value: v,
			ID: fmt.Sprintf("test/%d", lsn)})
	}
	for i := range acts {
		a := acts[i]
		add(cdc.OpRead, a.ID, nil, &a)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for i := range 20 {
		a := activities.Activity{ID: generate.LiveIDBase + int64(i), EmployeeID: reg.Employees[i].ID,
			StartTime: now.Add(-time.Hour), SportType: "Run", DistanceM: float64(8000 + 10*i), ElapsedS: 2700,
			Source: activities.SourceGenerator, UpdatedAt: now}
		add(cdc.OpCreate, a.ID, nil, &a)
	}
	for i := 0; i < len(acts); i += 37 {
		a, b := acts[i], acts[i]
		b.DistanceM += 500
		b.UpdatedAt = b.UpdatedAt.Add(time.Minute)
		add(cdc.OpUpdate, a.ID, &a, &b)
	}
	for i := 5; i < len(acts); i += 101 {
		a := acts[i]
		add(cdc.OpDelete, a.ID, &activities.Activity{ID: a.ID}, nil)
		msgs = append(msgs, &bus.Message{Topic: activities.TopicActivities, Key: fmt.Sprintf(`{"id":%d}`, a.ID),
			ID: fmt.Sprintf("test/tombstone/%d", a.ID)})
	}
	bad := acts[1]
	bad.ID, bad.EmployeeID = generate.LiveIDBase+999, "no-such-employee"
	add(cdc.OpCreate, bad.ID, nil, &bad) // quarantined: employee_exists
	return msgs
}

// crashState is what a run leaves, rendered for comparison.
type crashState struct {
	parts    map[string]string
	resent   int // Slack messages received more than once
	maxSends int // the most times Slack received one message
	kills    int
	// midStream counts the kills that came before the stages were done
	// (known on Kafka only).
	midStream int
}

// crashRun runs a worker on a fresh store and bus over events until it
// applied them all and made every call; killAfter, if set, draws how long
// the worker runs before each of three SIGKILLs.
func crashRun(t *testing.T, engine enginetest.Engine, dialect store.Dialect, events []*bus.Message, killAfter func() time.Duration) crashState {
	t.Helper()
	plan := crashPlan{workers: 1}
	if killAfter != nil {
		plan.kills, plan.killAfter = 3, killAfter
	}
	return crashRunPlan(t, engine, dialect, events, plan)
}

// crashPlan is how a crash run runs its workers: how many at once, each
// on its own data dir (several need Kafka and PostgreSQL), and how many
// times one of them is killed and replaced, after how long.
type crashPlan struct {
	workers   int
	kills     int
	killAfter func() time.Duration
}

// crashRunPlan is crashRun with the workers and kills of plan: the first
// worker is killed each time, and a new one, on a new data dir, takes its
// place.
func crashRunPlan(t *testing.T, engine enginetest.Engine, dialect store.Dialect, events []*bus.Message, plan crashPlan) crashState {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	received := map[string]int{}
	// Slack answers no call before the first kill, so that the stages
	// cannot all be done before it however fast the machine: the first
	// kill always lands mid-stream, with calls in flight.
	gate := make(chan struct{})
	var gateOnce sync.Once
	openGate := func() { gateOnce.Do(func() { close(gate) }) }
	if plan.kills == 0 {
		openGate()
	}
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m struct{ Text string }
		if json.Unmarshal(body, &m) != nil || m.Text == "" {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		mu.Lock()
		received[m.Text]++
		mu.Unlock()
		<-gate
		time.Sleep(20 * time.Millisecond) // a call takes a while: kills land in flight too
		_, _ = io.WriteString(w, "ok")
	}))
	defer slack.Close()
	defer openGate() // before Close, which waits for the calls

	dir := t.TempDir()
	storeURL := filepath.Join(dir, config.DefaultStoreFile)
	var busURL string
	var cluster enginetest.Cluster
	if dialect == store.Postgres {
		storeURL = storetest.URL(t, store.Postgres)
	}
	if engine == enginetest.Kafka {
		cluster = enginetest.Start(t, engine)
		busURL = "kafka://" + strings.Join(cluster.Brokers, ",")
	}
	s, err := store.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := hr.ImportSample(ctx, s); err != nil {
		t.Fatal(err)
	}
	args := []string{"--store", storeURL}
	if busURL != "" {
		args = append(args, "--bus", busURL)
	}
	args = append(args, "worker")
	env := []string{"PODIUM_NOTIFY_SLACK_WEBHOOK_URL=" + slack.URL + "/services/T000/B000/crash",
		"PODIUM_LAKEHOUSE_COMMIT_INTERVAL=300ms", "PODIUM_KAFKA_SESSION_TIMEOUT=3s", "PODIUM_KAFKA_REBALANCE_TIMEOUT=5s", "PODIUM_LAKEHOUSE_WAREHOUSE=" + filepath.Join(dir, "warehouse")}
	started := 0
	start := func(dir string) *process {
		started++
		p := startPodiumEnv(t, dir, env, append([]string{"--log-level", crashLogLevel}, args...)...)
		name := fmt.Sprintf("worker %d (%s)", started, dir)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s logged:\n%s", name, p.stderr.String())
			}
		})
		return p
	}
	ws := []*process{start(dir)}
	for i := 1; i < plan.workers; i++ {
		ws = append(ws, start(t.TempDir()))
	}
	w := ws[0]

	// The events go onto the raw topic, as the capture publishes them.
	var b bus.Bus
	if engine == enginetest.Kafka {
		b, err = cluster.Open(ctx)
	} else {
		b, err = ownerBus(ctx, t, dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(events); i += 500 {
		if err := b.Publish(ctx, events[i:min(i+500, len(events))]...); err != nil {
			t.Fatal(err)
		}
	}
	if engine == enginetest.JetStream {
		b.Close() // the bus dies with the worker
	} else {
		defer b.Close()
	}
	st := crashState{parts: map[string]string{}}
	// The first worker dies each time; its successor takes its data dir.
	for range plan.kills {
		time.Sleep(plan.killAfter())
		if engine == enginetest.Kafka {
			if done, _ := crashDone(t, ctx, b, s); !done {
				st.midStream++
			}
		}
		w.kill()
		st.kills++
		openGate()
		if engine == enginetest.Kafka {
			// Let the group drop the dead member (the session timeout)
			// before its successor joins: kfake was seen to leave the
			// partitions of a member that died during a generation
			// with it for good when the successor joined at once.
			time.Sleep(4 * time.Second)
		}
		w = start(dir)
		ws[0] = w
	}
	if engine == enginetest.JetStream {
		if b, err = ownerBus(ctx, t, dir); err != nil {
			t.Fatal(err)
		}
		defer b.Close()
	}
	var state string
	waitFor2(t, 3*time.Minute, "the worker to apply every event and make every call", func() bool {
		var done bool
		done, state = crashDone(t, ctx, b, s)
		return done
	}, w, &state)
	for _, w := range ws {
		if _, err := w.stop(); err != nil {
			t.Fatalf("the worker exited with %v:\n%s", err, w.stderr.String())
		}
	}
	st.parts["sql"] = dumpRows(t, s.DB(),
		`SELECT id, employee_id, sport_type, distance_m FROM activities_current ORDER BY id`,
		`SELECT employee_id, year, activities, distance_m, bonus_cents, wellness_days FROM activities_gold ORDER BY employee_id, year`,
		`SELECT employee_id, year, sport_type, activities, distance_m FROM activities_sport_years ORDER BY employee_id, year, sport_type`,
		`SELECT event_id, rule FROM activities_quarantine ORDER BY event_id`)
	st.parts["ledger"] = dumpRows(t, s.DB(), `SELECT call_key, state FROM podium_effects ORDER BY call_key`)
	st.parts["lake"] = dumpLake(t, s, filepath.Join(dir, "warehouse"))
	mu.Lock()
	for _, n := range received {
		st.resent += n - 1
		st.maxSends = max(st.maxSends, n)
	}
	if len(received) != 20 {
		t.Errorf("Slack got %d distinct messages, want the 20 live activities'", len(received))
	}
	mu.Unlock()
	return st
}

// crashDone reports whether every stage caught up and every call was made,
// and how far they are.
func crashDone(t *testing.T, ctx context.Context, b bus.Bus, s *store.Store) (bool, string) {
	var specs []stream.Spec
	for _, name := range []string{"activities-quality", "activities-rewards", "activities-slack", lake.Name} {
		topic := activities.TopicValidated
		if name == "activities-quality" {
			topic = activities.TopicActivities
		}
		specs = append(specs, stream.Spec{Name: name, Topic: topic})
	}
	lags, err := stream.Lags(ctx, b, s.DB(), specs)
	if err != nil || slices.ContainsFunc(lags, func(p stream.Progress) bool { return p.Lag != 0 || len(p.Next) == 0 }) {
		return false, fmt.Sprintf("lags: %+v %v", lags, err)
	}
	var sent int
	_ = s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM podium_effects WHERE state = 'sent'`).Scan(&sent)
	return sent == 20, fmt.Sprintf("%d calls sent; the others: %s", sent,
		dumpRows(t, s.DB(), `SELECT call_key, state, attempts, reason, lease_ms, next_try_ms FROM podium_effects WHERE state <> 'sent'`))
}

// dumpRows renders the rows of queries.
func dumpRows(t *testing.T, db *sql.DB, queries ...string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range queries {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					vals[i] = string(bs)
				}
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
	}
	return b.String()
}

// dumpLake renders the lake's silver and gold rows, and bronze's events
// (each event id with how many times bronze holds it).
func dumpLake(t *testing.T, s *store.Store, warehouse string) string {
	t.Helper()
	ctx := context.Background()
	l, err := lakehouse.Open(ctx, s.DB(), lakehouse.Dialect(s.Dialect()), lakehouse.Config{Warehouse: warehouse})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var b strings.Builder
	for _, name := range lake.Tables {
		tb, err := l.Table(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := tb.Scan(ctx, lakehouse.ScanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		if name == lake.TableBronze {
			ids := map[string]int{}
			for _, r := range rows {
				ids[fmt.Sprint(r[0])]++
			}
			for id, n := range ids {
				lines = append(lines, fmt.Sprintf("%s ×%d", id, n))
			}
		} else {
			for _, r := range rows {
				lines = append(lines, fmt.Sprint(r...))
			}
		}
		sort.Strings(lines)
		fmt.Fprintf(&b, "%s:\n%s\n", name, strings.Join(lines, "\n"))
	}
	return b.String()
}

// waitFor2 polls cond until it holds; it fails the test, showing *state,
// after limit, or when the process p exits.
func waitFor2(t *testing.T, limit time.Duration, what string, cond func() bool, p *process, state *string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("waiting for %s, podium exited: %v\n%s", what, err, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s\n%s", what, *state, p.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// crashLogLevel is the log level of the workers the crash test runs:
// PODIUM_TEST_WORKER_LOG_LEVEL when set (info shows the Kafka group's
// assignments), warn otherwise.
var crashLogLevel = cmp.Or(os.Getenv("PODIUM_TEST_WORKER_LOG_LEVEL"), "warn")
