package stream_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/retry"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// service stands in for an outside service: it counts the calls per key
// and answers what answer says.
type service struct {
	mu     sync.Mutex
	calls  map[string]int
	answer func(key string, attempt int) error
}

func newService(answer func(key string, attempt int) error) *service {
	return &service{calls: map[string]int{}, answer: answer}
}

func (s *service) do(_ context.Context, c stream.Call) error {
	s.mu.Lock()
	s.calls[c.Key]++
	n := s.calls[c.Key]
	answer := s.answer
	s.mu.Unlock()
	if answer == nil {
		return nil
	}
	return answer(c.Key, n)
}

func (s *service) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[key]
}

func (s *service) setAnswer(a func(key string, attempt int) error) {
	s.mu.Lock()
	s.answer = a
	s.mu.Unlock()
}

// notifier returns the effect stage under test: one call per event, keyed
// by the event's key and n; events with key "skip" ask for none.
func notifier(topic string, svc *service) stream.Effect[event] {
	return stream.Effect[event]{
		Name:   "notifier",
		Topic:  topic,
		Decode: decodeEvent,
		Plan: func(ctx context.Context, tx *sql.Tx, batch []stream.Record[event]) ([]stream.Call, error) {
			var calls []stream.Call
			for _, r := range batch {
				if r.Value.Key == "skip" {
					continue
				}
				calls = append(calls, stream.Call{Key: fmt.Sprintf("%s/%d", r.Value.Key, r.Value.N),
					Body: fmt.Appendf(nil, `{"text":"%s scored %d"}`, r.Value.Key, r.Value.N), Msg: r.Msg})
			}
			return calls, nil
		},
		Do:          svc.do,
		MaxAttempts: 2,
		Backoff:     retry.Backoff{Initial: time.Millisecond, Max: 20 * time.Millisecond},
		Poll:        20 * time.Millisecond,
	}
}

// ledger returns the calls of the stage per state.
func ledger(t testing.TB, s *store.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	rows, err := s.DB().Query(`SELECT state, COUNT(*) FROM podium_effects WHERE stage = 'notifier' GROUP BY state`)
	if err != nil {
		return out // no ledger yet
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			t.Fatal(err)
		}
		out[state] = n
	}
	return out
}

// start runs st in the background; the returned function stops it and
// checks it stopped cleanly.
func start(t *testing.T, st stream.Runnable, env stream.Env) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx, env) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("stage did not stop cleanly: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("stage did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func lag(t testing.TB, env stream.Env, spec stream.Spec) stream.Progress {
	t.Helper()
	ps, err := stream.Lags(context.Background(), env.Bus, env.Store.DB(), []stream.Spec{spec})
	if err != nil {
		t.Fatalf("lags: %v", err)
	}
	return ps[0]
}

func TestEffectCallsEachOnce(t *testing.T) {
	each(t, func(t *testing.T, d store.Dialect, e enginetest.Engine) {
		b := enginetest.Open(t, e)
		s := storetest.Open(t, d)
		topic := "test.effects"
		msgs := events(topic, 300)
		msgs = append(msgs, &bus.Message{Topic: topic, Key: "skip", Value: []byte(`{"key":"skip","n":1}`)},
			&bus.Message{Topic: topic, Key: "bad", Value: []byte(`{"key":`)})
		publish(t, b, msgs)
		svc := newService(nil)
		env := stream.Env{Bus: b, Store: s, MaxBatch: 64, Metrics: stream.NewMetrics(nil)}
		st := notifier(topic, svc)
		stop := start(t, st, env)
		waitFor(t, "300 calls sent", func() bool { return ledger(t, s)["sent"] == 300 })
		waitFor(t, "lag 0", func() bool { return lag(t, env, st.Spec()).Lag == 0 })
		stop()
		for i := range 300 {
			key := fmt.Sprintf("k%d/%d", i%7, i)
			if n := svc.count(key); n != 1 {
				t.Fatalf("call %s made %d times, want 1", key, n)
			}
		}
		// A restart makes no call twice and goes on with new messages.
		more := events(topic, 310)[300:]
		publish(t, b, more)
		stop = start(t, notifier(topic, svc), env)
		waitFor(t, "310 calls sent", func() bool { return ledger(t, s)["sent"] == 310 })
		stop()
		for i := range 310 {
			if n := svc.count(fmt.Sprintf("k%d/%d", i%7, i)); n != 1 {
				t.Fatalf("after a restart, call %d made %d times, want 1", i, n)
			}
		}
		dead, err := b.Topics(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, ti := range dead {
			found = found || ti.Name == bus.DLQTopic(topic) && ti.Messages == 1
		}
		if !found {
			t.Fatalf("the undecodable message is not the one dead letter of %s: %+v", topic, dead)
		}
	})
}

func TestEffectParksPermanentFailuresAndReplays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		b := enginetest.Open(t, enginetest.JetStream)
		s := storetest.Open(t, d)
		topic := "test.effects"
		msgs := events(topic, 40)
		publish(t, b, msgs)
		// Slack's answer to a revoked webhook.
		svc := newService(func(string, int) error {
			return retry.Permanent(errors.New("403 Forbidden: invalid_token"))
		})
		env := stream.Env{Bus: b, Store: s, Metrics: stream.NewMetrics(nil)}
		st := notifier(topic, svc)
		stop := start(t, st, env)
		waitFor(t, "40 calls parked", func() bool { return ledger(t, s)["parked"] == 40 })
		if p := lag(t, env, st.Spec()); p.Lag != 0 || p.Parked != 40 || p.Pending != 0 {
			t.Fatalf("progress = %+v, want lag 0 and 40 parked", p)
		}
		parked, err := stream.Parked(context.Background(), s.DB(), topic)
		if err != nil {
			t.Fatal(err)
		}
		if len(parked) != 40 {
			t.Fatalf("Parked lists %d calls, want 40", len(parked))
		}
		for _, p := range parked {
			if p.Attempts != 2 || !strings.Contains(p.Reason, "invalid_token") || p.Stage != "notifier" || p.Topic != topic {
				t.Fatalf("parked call %+v: want 2 attempts and Slack's error as the reason", p)
			}
			if n := svc.count(p.Key); n != 2 {
				t.Fatalf("call %s tried %d times before parking, want 2", p.Key, n)
			}
		}
		// The webhook is fixed; the operator replays.
		svc.setAnswer(nil)
		n, err := stream.Rearm(context.Background(), s, topic)
		if err != nil || n != 40 {
			t.Fatalf("Rearm = %d, %v; want 40", n, err)
		}
		waitFor(t, "40 replayed calls sent", func() bool { return ledger(t, s)["sent"] == 40 })
		stop()
		for _, p := range parked {
			if n := svc.count(p.Key); n != 3 {
				t.Fatalf("call %s made %d times in all, want 3 (2 refused, 1 sent)", p.Key, n)
			}
		}
	})
}

func TestEffectRetriesTransientFailures(t *testing.T) {
	b := enginetest.Open(t, enginetest.JetStream)
	s := storetest.Open(t, store.SQLite)
	topic := "test.effects"
	publish(t, b, events(topic, 5))
	// Slack rate-limits the first two tries of each call (429 with a
	// Retry-After), then answers 500 once, then takes it.
	svc := newService(func(_ string, attempt int) error {
		switch attempt {
		case 1, 2:
			return retry.After(errors.New("429 Too Many Requests"), 5*time.Millisecond)
		case 3:
			return errors.New("500 Internal Server Error: rollup_error")
		}
		return nil
	})
	env := stream.Env{Bus: b, Store: s}
	stop := start(t, notifier(topic, svc), env)
	waitFor(t, "5 calls sent", func() bool { return ledger(t, s)["sent"] == 5 })
	stop()
	for i := range 5 {
		if n := svc.count(fmt.Sprintf("k%d/%d", i, i)); n != 4 {
			t.Fatalf("call %d made %d times, want 4 (3 transient failures, then sent)", i, n)
		}
	}
	if l := ledger(t, s); l["parked"] != 0 {
		t.Fatalf("transient failures parked calls: %v", l)
	}
}

// TestEffectCallsOutsideTheStore checks that a call in flight holds no
// store lock and no transaction: while the service hangs, other writers
// write and the stage goes on consuming (its lag reaches 0).
func TestEffectCallsOutsideTheStore(t *testing.T) {
	b := enginetest.Open(t, enginetest.JetStream)
	s := storetest.Open(t, store.SQLite)
	topic := "test.effects"
	publish(t, b, events(topic, 20))
	release := make(chan struct{})
	svc := newService(func(string, int) error {
		<-release
		return nil
	})
	env := stream.Env{Bus: b, Store: s}
	st := notifier(topic, svc)
	st.Timeout = time.Minute
	stop := start(t, st, env)
	waitFor(t, "a call in flight", func() bool {
		svc.mu.Lock()
		defer svc.mu.Unlock()
		return len(svc.calls) > 0
	})
	publish(t, b, events(topic, 30)[20:])
	waitFor(t, "the stage to consume every message while a call hangs", func() bool {
		p := lag(t, env, st.Spec())
		return p.Lag == 0 && p.Pending == 30
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE other_writer (x INTEGER)`)
		return err
	}); err != nil {
		t.Fatalf("another writer could not write while a call was in flight: %v", err)
	}
	close(release)
	waitFor(t, "30 calls sent", func() bool { return ledger(t, s)["sent"] == 30 })
	stop()
}
