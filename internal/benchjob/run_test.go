package benchjob_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/benchjob"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/progress"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// leftovers lists what a run left on the bus and in the store.
func leftovers(t *testing.T, env stream.Env, j benchjob.Job) []string {
	t.Helper()
	ctx := context.Background()
	var left []string
	topics, err := env.Bus.Topics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range topics {
		if strings.HasPrefix(tp.Name, j.Topic) {
			left = append(left, "topic "+tp.Name)
		}
	}
	for _, table := range []string{j.Table, j.Table + "_raw"} {
		if _, err := env.Store.DB().ExecContext(ctx, `SELECT 1 FROM `+table); err == nil {
			left = append(left, "table "+table)
		}
	}
	var n int
	if err := env.Store.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM podium_positions WHERE processor = $1`, j.Stage).Scan(&n); err != nil || n > 0 {
		left = append(left, "positions")
	}
	return left
}

// TestRun runs the job on every store with embedded JetStream: every
// figure is there, the table held every event, nothing is left.
func TestRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		env := stream.Env{Bus: enginetest.Open(t, enginetest.JetStream), Store: storetest.Open(t, d)}
		j := benchjob.New()
		res, err := benchjob.Run(context.Background(), env, j, benchjob.Options{Events: 2500, Rate: 400, RateFor: 250 * time.Millisecond, Raw: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Job.Events != 2500 || res.Job.PerSec <= 0 || res.Consume.PerSec <= 0 || res.Publish.PerSec <= 0 ||
			res.Latency == nil || res.Latency.Events != 100 || res.Raw == nil || res.Raw.Store.PerSec <= 0 || !res.CleanedUp {
			t.Fatalf("result %+v", res)
		}
		if d == store.Postgres && res.Raw.StoreMethod != "postgres copy (pgx CopyFrom)" {
			t.Errorf("raw store method %q", res.Raw.StoreMethod)
		}
		if left := leftovers(t, env, j); len(left) > 0 {
			t.Fatalf("left behind: %v", left)
		}
	})
}

// TestRunCancelled: a run stopped mid-job (Ctrl-C) still removes its
// scratch topic and tables.
func TestRunCancelled(t *testing.T) {
	env := stream.Env{Bus: enginetest.Open(t, enginetest.JetStream), Store: storetest.Open(t, store.SQLite)}
	j := benchjob.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := benchjob.Options{Events: 20000, Bar: func(label string, total int64) *progress.Bar {
		if label == "job" {
			go func() {
				time.Sleep(50 * time.Millisecond)
				cancel()
			}()
		}
		return nil
	}}
	res, err := benchjob.Run(ctx, env, j, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want it cancelled", err)
	}
	if !res.CleanedUp {
		t.Fatalf("not cleaned up")
	}
	if left := leftovers(t, env, j); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}
