package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// The tests run the processor on a real bus (embedded JetStream) and store,
// fed with change events shaped like the captures', against a fake Slack.

// secretPath is the secret part of the fake webhook: it must reach no log.
const secretPath = "/services/T0001/B0001/sEcReT-ToKeN"

// fakeSlack is an incoming webhook that fails as told, then accepts.
type fakeSlack struct {
	srv *httptest.Server

	mu       sync.Mutex
	fail500  int           // answer 500 to this many more requests
	fail429  int           // then 429 with Retry-After: 1 to this many
	down     bool          // answer 503 until set false
	delay    time.Duration // before answering
	requests int
	accepted []string // the text of each accepted message, in order
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) url() string { return f.srv.URL + secretPath }

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	var m message
	if r.Method != http.MethodPost || r.URL.Path != secretPath ||
		json.NewDecoder(r.Body).Decode(&m) != nil || m.Text == "" || len(m.Blocks) != 2 {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests++
	delay := f.delay
	var status int
	switch {
	case f.down:
		status = http.StatusServiceUnavailable
	case f.fail500 > 0:
		f.fail500--
		status = http.StatusInternalServerError
	case f.fail429 > 0:
		f.fail429--
		status = http.StatusTooManyRequests
	default:
		f.accepted = append(f.accepted, m.Text)
		status = http.StatusOK
	}
	f.mu.Unlock()
	time.Sleep(delay)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	if status == http.StatusOK {
		_, _ = w.Write([]byte("ok"))
	}
}

func (f *fakeSlack) set(fn func(f *fakeSlack)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeSlack) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.accepted...)
}

// syncBuffer is a bytes.Buffer safe for the processor's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// now is the tests' clock: live activities ended just before it.
var now = time.Now().UTC().Truncate(time.Second)

// fixture is a bus and a store with the HR register holding E1.
type fixture struct {
	bus   bus.Bus
	store *store.Store
	logs  *syncBuffer
	seq   int
}

func newFixture(t testing.TB, d store.Dialect) *fixture {
	t.Helper()
	f := &fixture{bus: enginetest.Open(t, enginetest.JetStream), store: storetest.Open(t, d), logs: &syncBuffer{}}
	ctx := context.Background()
	if err := hr.Migrate(ctx, f.store); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.DB().ExecContext(ctx, `INSERT INTO hr_employees (employee_id, last_name, first_name,
		birth_date, business_unit, hire_date, gross_salary, contract_type, paid_leave_days, home_address,
		commute_mode, imported_at, updated_at) VALUES ('E1', 'Dupont', 'Camille', $1, 'IT', $1, 51234.5, 'CDI', 25,
		'12 rue Secrète, Montpellier', 'car', $2, $2)`, time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), now); err != nil {
		t.Fatalf("insert employee: %v", err)
	}
	return f
}

// activity is a run of E1 with a distance telling it apart, ended ago.
func activity(id int64, ago time.Duration) activities.Activity {
	return activities.Activity{ID: id, EmployeeID: "E1", StartTime: now.Add(-ago - time.Hour), SportType: "Run",
		DistanceM: 10000 + 100*float64(id), ElapsedS: 3600, Source: activities.SourceGenerator, UpdatedAt: now}
}

// event returns a change event of a as the captures publish it.
func (f *fixture) event(t testing.TB, op cdc.Op, a activities.Activity) *bus.Message {
	t.Helper()
	row, err := json.Marshal(map[string]any{"id": a.ID, "employee_id": a.EmployeeID,
		"start_time": a.StartTime.Format(time.RFC3339Nano), "sport_type": a.SportType, "distance_m": a.DistanceM,
		"elapsed_s": a.ElapsedS, "comment": a.Comment, "source": a.Source, "updated_at": a.UpdatedAt.Format(time.RFC3339Nano)})
	if err != nil {
		t.Fatal(err)
	}
	f.seq++
	lsn := int64(f.seq)
	ev := cdc.Event{Op: op, TsMs: now.UnixMilli(), Source: cdc.Source{Version: "podium", Connector: "sqlite",
		Name: "sportsdata", TsMs: now.UnixMilli(), Snapshot: cdc.SnapshotFalse, Table: activities.Table, LSN: &lsn}}
	switch op {
	case cdc.OpRead:
		ev.After, ev.Source.Snapshot = row, cdc.SnapshotTrue
	case cdc.OpDelete:
		ev.Before = row
	case cdc.OpUpdate:
		ev.Before, ev.After = row, row
	default:
		ev.After = row
	}
	v, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return &bus.Message{Topic: activities.TopicValidated, Key: fmt.Sprintf(`{"id":%d}`, a.ID), Value: v,
		ID: fmt.Sprintf("sqlite/%d", f.seq)}
}

func (f *fixture) publish(t testing.TB, msgs ...*bus.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.bus.Publish(ctx, msgs...); err != nil {
		t.Fatalf("publish %d events: %v", len(msgs), err)
	}
}

// config is the processor's configuration against slack (nil: no webhook).
func (f *fixture) config(slack *fakeSlack) Config {
	cfg := Config{Language: "fr", MaxBackoff: 50 * time.Millisecond, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if slack != nil {
		cfg.WebhookURL = slack.url()
	}
	return cfg
}

// start runs the processor until the returned stop is called; stop checks
// that it stopped cleanly.
func (f *fixture) start(t *testing.T, cfg Config) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	env := stream.Env{Bus: f.bus, Store: f.store, MaxBatch: 500, Logger: cfg.Logger}
	go func() { done <- Stage(cfg).Run(ctx, env) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("processor did not stop cleanly: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("processor did not stop within 30s")
		}
	}
}

// posted returns the activity ids the ledger has as sent, none if the
// ledger does not exist yet.
func (f *fixture) posted() []int64 { return f.inState(stream.CallSent) }

// inState returns the activity ids of the stage's ledger rows in state.
func (f *fixture) inState(state string) []int64 {
	rows, err := f.store.DB().Query(`SELECT call_key FROM podium_effects WHERE stage = $1 AND state = $2`, Name, state)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var key string
		var id int64
		if rows.Scan(&key) == nil {
			if _, err := fmt.Sscanf(key, "activity/%d", &id); err == nil {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// want returns the message text of each activity id.
func want(ids ...int64) []string {
	var out []string
	for _, id := range ids {
		out = append(out, render(activity(id, 0), "Camille D.", "fr", time.UTC).Text)
	}
	return out
}

// checkExactlyOnce checks that Slack accepted the messages of ids, each
// once, in order, and that the ledger has them sent.
func checkExactlyOnce(t *testing.T, f *fixture, slack *fakeSlack, ids ...int64) {
	t.Helper()
	got, exp := slack.texts(), want(ids...)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Errorf("Slack accepted:\n%s\nwant each activity once, in order:\n%s", strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
	if p, w := fmt.Sprint(f.posted()), fmt.Sprint(ids); p != w {
		t.Errorf("the ledger has %s sent, want %s", p, w)
	}
	checkLogs(t, f)
}

// checkLogs checks that the logs hold neither the webhook's secret nor the
// HR register's personal data.
func checkLogs(t *testing.T, f *fixture) {
	t.Helper()
	logs := f.logs.String()
	for _, secret := range []string{"sEcReT", "T0001", "51234", "Secrète", "1990"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold %q:\n%s", secret, logs)
		}
	}
}

// TestSlackOutage is the acceptance test: a Slack answering 500s, then 429s
// with Retry-After, delays the messages but loses none and doubles none.
func TestSlackOutage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		slack := newFakeSlack(t)
		slack.set(func(s *fakeSlack) { s.fail500, s.fail429 = 6, 2 })
		var msgs []*bus.Message
		for id := int64(1); id <= 5; id++ {
			msgs = append(msgs, f.event(t, cdc.OpCreate, activity(id, time.Minute)))
		}
		f.publish(t, msgs...)
		start := time.Now()
		stop := f.start(t, f.config(slack))
		waitFor(t, "5 messages", func() bool { return len(f.posted()) == 5 })
		time.Sleep(100 * time.Millisecond) // room for a duplicate to show
		stop()
		if took := time.Since(start); took < 2*time.Second {
			t.Errorf("done in %s: the two 429s' Retry-After (1s each) were not honoured", took)
		}
		checkExactlyOnce(t, f, slack, 1, 2, 3, 4, 5)
		if n := slack.requests; n != 5+6+2 {
			t.Errorf("%d requests, want 13 (5 messages, 6 answered 500, 2 answered 429)", n)
		}
		if !strings.Contains(f.logs.String(), "retrying") {
			t.Errorf("the retries were not logged:\n%s", f.logs.String())
		}
	})
}

// TestRestart stops the processor mid-stream, then during an outage, and
// restarts it: no message is lost or doubled, and an event published twice
// (a capture's redelivery) posts once.
func TestRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		slack := newFakeSlack(t)
		slack.set(func(s *fakeSlack) { s.delay = 20 * time.Millisecond })
		var msgs []*bus.Message
		for id := int64(1); id <= 12; id++ {
			msgs = append(msgs, f.event(t, cdc.OpCreate, activity(id, time.Minute)))
		}
		f.publish(t, msgs...)

		stop := f.start(t, f.config(slack))
		waitFor(t, "4 messages", func() bool { return len(slack.texts()) >= 4 })
		stop()
		if n := len(slack.texts()); n >= 12 {
			t.Fatalf("all %d messages were sent before the stop: the test proves nothing", n)
		}

		// Restart during an outage, stop while it retries: nothing is lost.
		slack.set(func(s *fakeSlack) { s.down = true })
		before := len(slack.texts())
		stop = f.start(t, f.config(slack))
		waitFor(t, "a retry", func() bool { return strings.Contains(f.logs.String(), "retrying") })
		stop()
		if len(slack.texts()) != before {
			t.Fatalf("a message was accepted while Slack was down")
		}

		// Slack is back; a redelivered event (same activity, new event) and
		// new activities arrive.
		slack.set(func(s *fakeSlack) { s.down = false })
		f.publish(t, f.event(t, cdc.OpCreate, activity(3, time.Minute)), f.event(t, cdc.OpCreate, activity(13, time.Minute)))
		stop = f.start(t, f.config(slack))
		waitFor(t, "13 messages", func() bool { return len(f.posted()) == 13 })
		time.Sleep(100 * time.Millisecond)
		stop()
		checkExactlyOnce(t, f, slack, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
	})
}

// TestBackfillIsQuiet: snapshot reads, inserts of old activities, updates
// and deletes post nothing; only the live insert does.
func TestBackfillIsQuiet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		slack := newFakeSlack(t)
		f.publish(t,
			f.event(t, cdc.OpRead, activity(1, time.Minute)),     // snapshot of a recent activity
			f.event(t, cdc.OpRead, activity(2, 30*24*time.Hour)), // snapshot of an old one
			f.event(t, cdc.OpCreate, activity(3, 48*time.Hour)),  // backfilled by generate
			f.event(t, cdc.OpCreate, activity(4, 6*time.Hour+time.Minute)),
			f.event(t, cdc.OpUpdate, activity(5, time.Minute)), // an edit
			f.event(t, cdc.OpDelete, activity(6, time.Minute)), // a deletion
			f.event(t, cdc.OpCreate, activity(7, 5*time.Hour)), // live: within the window
			f.event(t, cdc.OpCreate, activity(8, time.Minute)), // live
		)
		stop := f.start(t, f.config(slack))
		waitFor(t, "the live messages", func() bool { return len(f.posted()) == 2 })
		time.Sleep(100 * time.Millisecond)
		stop()
		checkExactlyOnce(t, f, slack, 7, 8)
	})
}

// TestNoWebhookPrints: with no webhook, the message goes to Out, once.
func TestNoWebhookPrints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		out := &syncBuffer{}
		cfg := f.config(nil)
		cfg.Out = out
		a := activity(1, time.Minute)
		a.DistanceM, a.ElapsedS = 12400, 3720
		f.publish(t, f.event(t, cdc.OpCreate, a), f.event(t, cdc.OpCreate, a))
		stop := f.start(t, cfg)
		waitFor(t, "the message", func() bool { return len(f.posted()) == 1 })
		time.Sleep(100 * time.Millisecond)
		stop()
		const line = "slack (no webhook configured) would send: 🏃 Bravo Camille D. ! 12,4 km de course à pied en 1 h 02 min\n"
		if got := out.String(); got != line {
			t.Errorf("printed %q, want %q", got, line)
		}
		checkLogs(t, f)
	})
}

// TestSlackRefusalsAreParked: Slack's refusals — the answers its
// documentation gives for a revoked webhook, a deleted or archived
// channel, a refused payload, and a Web API style {"ok": false} — park
// the message with Slack's answer as the reason after a few tries; the
// stream goes on, and a replay after the fix posts it once.
func TestSlackRefusalsAreParked(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"revoked webhook", http.StatusForbidden, "invalid_token"},
		{"workspace restriction", http.StatusForbidden, "action_prohibited"},
		{"deleted webhook", http.StatusNotFound, "no_service"},
		{"deleted channel", http.StatusNotFound, "channel_not_found"},
		{"archived channel", http.StatusGone, "channel_is_archived"},
		{"refused payload", http.StatusBadRequest, "invalid_payload"},
		{"web api refusal", http.StatusOK, `{"ok":false,"error":"channel_not_found"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, store.SQLite)
			var mu sync.Mutex
			fixed, requests := false, 0
			var texts []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var m message
				_ = json.NewDecoder(r.Body).Decode(&m)
				mu.Lock()
				defer mu.Unlock()
				requests++
				if !fixed && strings.Contains(m.Text, "10,1 km") {
					w.WriteHeader(tc.status)
					_, _ = io.WriteString(w, tc.body)
					return
				}
				texts = append(texts, m.Text)
				_, _ = io.WriteString(w, "ok")
			}))
			defer srv.Close()
			cfg := f.config(nil)
			cfg.WebhookURL = srv.URL + secretPath
			cfg.MaxAttempts = 2
			f.publish(t, f.event(t, cdc.OpCreate, activity(1, time.Minute)), f.event(t, cdc.OpCreate, activity(2, time.Minute)))
			stop := f.start(t, cfg)
			waitFor(t, "the first message parked", func() bool { return len(f.inState(stream.CallParked)) == 1 })
			waitFor(t, "the second message posted", func() bool { return len(f.posted()) == 1 })
			stop()
			if fmt.Sprint(f.posted()) != "[2]" || fmt.Sprint(f.inState(stream.CallParked)) != "[1]" {
				t.Fatalf("sent %v, parked %v; want [2] sent, [1] parked", f.posted(), f.inState(stream.CallParked))
			}
			parked, err := stream.Parked(context.Background(), f.store.DB(), activities.TopicValidated)
			if err != nil || len(parked) != 1 {
				t.Fatalf("Parked = %v, %v", parked, err)
			}
			wantStatus := fmt.Sprint(tc.status)
			if tc.status == http.StatusOK {
				wantStatus = "ok=false"
			}
			slackError := strings.TrimSuffix(strings.TrimPrefix(tc.body, `{"ok":false,"error":"`), `"}`)
			if p := parked[0]; p.Attempts != 2 || !strings.Contains(p.Reason, wantStatus) || !strings.Contains(p.Reason, slackError) {
				t.Fatalf("parked %+v: want 2 attempts and Slack's answer (%d %s) as the reason", p, tc.status, tc.body)
			}
			if strings.Contains(parked[0].Reason, secretPath) {
				t.Fatalf("the reason holds the webhook's secret: %s", parked[0].Reason)
			}
			// The webhook is fixed; the operator replays the parked message.
			mu.Lock()
			fixed = true
			mu.Unlock()
			if n, err := stream.Rearm(context.Background(), f.store, activities.TopicValidated); err != nil || n != 1 {
				t.Fatalf("Rearm = %d, %v", n, err)
			}
			stop = f.start(t, cfg)
			waitFor(t, "the replayed message", func() bool { return len(f.posted()) == 2 })
			stop()
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(texts, "\n") != strings.Join(want(2, 1), "\n") || requests != 4 {
				t.Fatalf("Slack accepted %q in %d requests; want the second, then the replayed first, in 4", texts, requests)
			}
			checkLogs(t, f)
		})
	}
}

// TestEachMessageCommittedBeforeTheNext: the duplicate window is one
// message: while Slack handles the second message of a batch, the first is
// already marked sent, whatever the Env's MaxBatch.
func TestEachMessageCommittedBeforeTheNext(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		gate, inSecond := make(chan struct{}), make(chan struct{})
		var once sync.Once
		var n int
		var mu sync.Mutex
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			n++
			k := n
			mu.Unlock()
			if k == 2 {
				once.Do(func() { close(inSecond) })
				<-gate
			}
		}))
		defer srv.Close()
		cfg := f.config(nil)
		cfg.WebhookURL = srv.URL + secretPath
		f.publish(t, f.event(t, cdc.OpCreate, activity(1, time.Minute)), f.event(t, cdc.OpCreate, activity(2, time.Minute)))
		stop := f.start(t, cfg)
		select {
		case <-inSecond:
		case <-time.After(60 * time.Second):
			t.Fatal("the second message never reached Slack")
		}
		if got := fmt.Sprint(f.posted()); got != "[1]" {
			t.Errorf("while Slack handles the second message, the ledger has %s sent, want [1]", got)
		}
		close(gate)
		waitFor(t, "the second message", func() bool { return len(f.posted()) == 2 })
		stop()
	})
}
