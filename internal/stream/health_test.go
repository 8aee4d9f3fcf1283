package stream_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// gauge returns the value of the series name{processor} in reg, -1 when
// it is not there.
func gauge(t *testing.T, reg *prometheus.Registry, name, processor string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "processor" && l.GetValue() == processor {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}

// TestStagesReady runs stages under Supervise and checks what readiness
// says of them: not started, running, a batch failing again and again
// (with its error), back once it commits, and a stage that cannot start.
func TestStagesReady(t *testing.T) {
	b := enginetest.Open(t, enginetest.JetStream)
	s := storetest.Open(t, store.SQLite)
	reg := prometheus.NewRegistry()
	env := stream.Env{Bus: b, Store: s, Metrics: stream.NewMetrics(reg)}
	topic := "test.health"
	var failing atomic.Bool
	p := sink(topic, nil)
	handle := p.Handle
	p.Handle = func(ctx context.Context, tx *sql.Tx, batch []stream.Record[event]) error {
		if failing.Load() {
			return errors.New("disk full")
		}
		return handle(ctx, tx, batch)
	}
	broken := stream.Processor[event]{Name: "broken", Topic: topic} // no Decode: cannot start
	specs := []stream.Spec{p.Spec(), broken.Spec()}

	err := env.Metrics.StagesReady(specs)
	if err == nil || !strings.Contains(err.Error(), "stage sink: not started yet") {
		t.Fatalf("before start: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		stream.Supervise(ctx, env, []stream.Runnable{p, broken})
	}()
	defer func() { cancel(); <-done }()

	ready := func(want ...string) func() bool {
		return func() bool {
			err := env.Metrics.StagesReady([]stream.Spec{p.Spec()})
			if len(want) == 0 {
				return err == nil
			}
			for _, w := range want {
				if err == nil || !strings.Contains(err.Error(), w) {
					return false
				}
			}
			return true
		}
	}
	waitFor(t, "sink ready", ready())
	if v := gauge(t, reg, "podium_stage_running", "sink"); v != 1 {
		t.Errorf("podium_stage_running{processor=sink} = %v, want 1", v)
	}
	waitFor(t, "the broken stage reported", func() bool {
		err := env.Metrics.StagesReady([]stream.Spec{broken.Spec()})
		return err != nil && strings.Contains(err.Error(), "stage broken: stopped") &&
			strings.Contains(err.Error(), "restarting: stream: stage \"broken\" needs a Name, a Topic and Decode")
	})
	if v := gauge(t, reg, "podium_stage_running", "broken"); v != 0 {
		t.Errorf("podium_stage_running{processor=broken} = %v, want 0", v)
	}

	publish(t, b, events(topic, 10))
	waitFor(t, "a commit", func() bool { return gauge(t, reg, "podium_stage_last_commit_timestamp_seconds", "sink") > 0 })

	failing.Store(true)
	publish(t, b, events(topic, 1))
	waitFor(t, "sink not ready while its batch fails", ready("stage sink: its batch failed", "times in a row", "disk full"))
	failing.Store(false)
	waitFor(t, "sink ready again once the batch commits", ready())
	if got := logCount(s); got != 11 {
		t.Errorf("sink log has %d rows, want 11", got)
	}
}
