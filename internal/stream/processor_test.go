package stream_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// each runs fn on every store dialect and every bus engine.
func each(t *testing.T, fn func(t *testing.T, d store.Dialect, e enginetest.Engine)) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
			fn(t, d, e)
		})
	})
}

func publish(t testing.TB, b bus.Bus, msgs []*bus.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Publish(ctx, msgs...); err != nil {
		t.Fatalf("publish %d messages: %v", len(msgs), err)
	}
}

func TestProcessorAppliesEachMessageOnce(t *testing.T) {
	each(t, func(t *testing.T, d store.Dialect, e enginetest.Engine) {
		b := enginetest.Open(t, e)
		s := storetest.Open(t, d)
		topic := "test.events"
		msgs := events(topic, 3000)
		publish(t, b, msgs)
		env := stream.Env{Bus: b, Store: s, MaxBatch: 500, Metrics: stream.NewMetrics(nil)}
		runUntil(t, sink(topic, nil), env, len(msgs))
		if got, want := dump(t, s), expected(msgs); got != want {
			t.Fatalf("sink tables differ from the events:\n%s", diff(got, want))
		}
		// A restart reads nothing twice, and goes on with new messages.
		more := events(topic, 50)
		publish(t, b, more)
		runUntil(t, sink(topic, nil), env, len(msgs)+len(more))
		if got, want := dump(t, s), expected(append(msgs, more...)); got != want {
			t.Fatalf("after a restart:\n%s", diff(got, want))
		}
		if r := env.Metrics.Recent(); len(r) == 0 || r[0].Processor != "sink" {
			t.Fatalf("recent batches not recorded: %+v", r)
		}
	})
}

func TestMalformedMessagesGoToDeadLetters(t *testing.T) {
	each(t, func(t *testing.T, d store.Dialect, e enginetest.Engine) {
		b := enginetest.Open(t, e)
		s := storetest.Open(t, d)
		topic := "test.mixed"
		good := events(topic, 40)
		bad := []struct{ value, reason string }{
			{`not json`, "decode: invalid character 'o' in literal null (expecting 'u')"},
			{`{"key":"k1","n":-4}`, "decode: n = -4: must not be negative"},
			{`{"n":3}`, "decode: key is missing"},
			{`{"key":"reject-me","n":1}`, `handle: key "reject-me" is refused`},
		}
		var all []*bus.Message
		for i, m := range good {
			all = append(all, m)
			if i%10 == 5 {
				bd := bad[i/10]
				all = append(all, &bus.Message{Topic: topic, Key: fmt.Sprintf("bad%d", i/10), Value: []byte(bd.value),
					Headers: map[string]string{"origin": "test"}})
			}
		}
		publish(t, b, all)
		runUntil(t, sink(topic, nil), stream.Env{Bus: b, Store: s, MaxBatch: 16}, len(good))
		if got, want := dump(t, s), expected(all); got != want {
			t.Fatalf("valid messages did not all land:\n%s", diff(got, want))
		}

		c, err := b.Consume(context.Background(), bus.ConsumerConfig{Topic: bus.DLQTopic(topic)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		reasons := map[string]string{}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for len(reasons) < len(bad) {
			batch, err := c.Fetch(ctx, 10)
			if err != nil {
				t.Fatalf("read dead letters (have %d of %d): %v", len(reasons), len(bad), err)
			}
			for _, m := range batch {
				if m.Headers[bus.HeaderDLQTopic] != topic || m.Headers[bus.HeaderDLQProcessor] != "sink" ||
					m.Headers[bus.HeaderDLQOffset] == "" || m.Headers["origin"] != "test" {
					t.Errorf("dead letter %q lacks its source: %v", m.Value, m.Headers)
				}
				reasons[string(m.Value)] = m.Headers[bus.HeaderDLQReason]
			}
		}
		for _, bd := range bad {
			if reasons[bd.value] != bd.reason {
				t.Errorf("dead letter %s: reason %q, want %q", bd.value, reasons[bd.value], bd.reason)
			}
		}
	})
}

// Crash points for TestCrashRecovery.
const (
	crashBeforeCommit = "before-commit" // effects written, transaction not committed
	crashMidBatch     = "mid-batch"     // half of a batch written
	crashAfterCommit  = "after-commit"  // between batches: stored, not acknowledged on the bus
)

// TestCrashRecovery kills a processor process hard (SIGKILL) at several
// points, restarts it, and checks that the sink tables equal those of an
// uninterrupted run: no message applied twice, none lost.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests start processes; skipped with -short")
	}
	each(t, func(t *testing.T, d store.Dialect, e enginetest.Engine) {
		for _, point := range []string{crashBeforeCommit, crashMidBatch, crashAfterCommit} {
			t.Run(point, func(t *testing.T) {
				cluster := enginetest.Start(t, e)
				storeURL := storetest.URL(t, d)
				topic := "test.crash"
				msgs := events(topic, 2000)
				b, err := cluster.Open(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				publish(t, b, msgs)
				if e == enginetest.JetStream {
					// The child process opens the embedded engine itself.
					_ = b.Close()
				}

				// The child handles a few batches and is killed at the 4th.
				cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
				cmd.Env = append(os.Environ(),
					"PODIUM_CRASH_CHILD=1",
					"PODIUM_CRASH_POINT="+point,
					"PODIUM_CRASH_ENGINE="+string(e),
					"PODIUM_CRASH_DIR="+cluster.Dir,
					"PODIUM_CRASH_BROKERS="+strings.Join(cluster.Brokers, ","),
					"PODIUM_CRASH_STORE="+storeURL,
					"PODIUM_CRASH_TOPIC="+topic)
				out, err := cmd.CombinedOutput()
				var exit *exec.ExitError
				if !errorsAs(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("child was not killed at %s: %v\n%s", point, err, out)
				}

				s, err := store.Open(context.Background(), storeURL)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				before := logCount(s)
				if before == 0 || before >= len(msgs) {
					t.Fatalf("child applied %d of %d messages before the crash; want some but not all", before, len(msgs))
				}
				if e == enginetest.JetStream {
					if b, err = cluster.Open(context.Background()); err != nil {
						t.Fatalf("reopen the embedded engine after the crash: %v", err)
					}
				}
				defer b.Close()
				runUntil(t, sink(topic, nil), stream.Env{Bus: b, Store: s, MaxBatch: 100}, len(msgs))
				if got, want := dump(t, s), expected(msgs); got != want {
					t.Fatalf("after a crash at %s (%d rows before), tables differ from an uninterrupted run:\n%s", point, before, diff(got, want))
				}
			})
		}
	})
}

// TestCrashChild is the processor process TestCrashRecovery kills.
func TestCrashChild(t *testing.T) {
	if os.Getenv("PODIUM_CRASH_CHILD") != "1" {
		t.Skip("run by TestCrashRecovery in a child process")
	}
	ctx := context.Background()
	cluster := enginetest.Cluster{Engine: enginetest.Engine(os.Getenv("PODIUM_CRASH_ENGINE")), Dir: os.Getenv("PODIUM_CRASH_DIR")}
	if brokers := os.Getenv("PODIUM_CRASH_BROKERS"); brokers != "" {
		cluster.Brokers = strings.Split(brokers, ",")
	}
	b, err := cluster.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, os.Getenv("PODIUM_CRASH_STORE"))
	if err != nil {
		t.Fatal(err)
	}
	point := os.Getenv("PODIUM_CRASH_POINT")
	batches := 0
	kill := func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} }
	hooks := &stream.Hooks{
		BeforeCommit: func([]*bus.Message) {
			batches++
			if point == crashBeforeCommit && batches == 4 {
				kill()
			}
		},
		AfterCommit: func([]*bus.Message) {
			if point == crashAfterCommit && batches == 4 {
				kill()
			}
		},
	}
	mid := func(n int) {
		if point == crashMidBatch && batches == 3 && n > 1 {
			kill()
		}
	}
	err = sink(os.Getenv("PODIUM_CRASH_TOPIC"), mid).Run(ctx, stream.Env{Bus: b, Store: s, MaxBatch: 100, Hooks: hooks})
	t.Fatalf("processor returned without being killed: %v (after %s batches)", err, strconv.Itoa(batches))
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

func diff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n  got  %s\n  want %s\n", i+1, gl, wl)
		}
	}
	return b.String()
}

// TestWorkersSharePartitions runs two workers of one processor on Kafka:
// the group spreads the partitions over them, a rebalance moves partitions
// while batches are in flight, and the store still gets every event once.
func TestWorkersSharePartitions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		cluster := enginetest.Start(t, enginetest.Kafka)
		s := storetest.Open(t, d)
		topic := "test.shared"
		msgs := events(topic, 4000)
		open := func() bus.Bus {
			b, err := cluster.Open(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close() })
			return b
		}
		b1, b2 := open(), open()
		publish(t, b1, msgs[:2000])
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 2)
		go func() { done <- sink(topic, nil).Run(ctx, stream.Env{Bus: b1, Store: s, MaxBatch: 50}) }()
		// The second worker joins mid-stream, forcing a rebalance.
		time.Sleep(50 * time.Millisecond)
		go func() { done <- sink(topic, nil).Run(ctx, stream.Env{Bus: b2, Store: s, MaxBatch: 50}) }()
		publish(t, b2, msgs[2000:])
		deadline := time.Now().Add(60 * time.Second)
		for logCount(s) < len(msgs) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		cancel()
		for i := 0; i < 2; i++ {
			if err := <-done; err != nil {
				t.Errorf("worker: %v", err)
			}
		}
		if got, want := dump(t, s), expected(msgs); got != want {
			t.Fatalf("two workers did not apply each event exactly once:\n%s", diff(got, want))
		}
	})
}

// TestPrepare checks that Prepare sees every record before its batch's
// transaction, and that a failing Prepare delays the batch without losing
// or doubling anything.
func TestPrepare(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		b := enginetest.Open(t, enginetest.JetStream)
		s := storetest.Open(t, d)
		topic := "test.prepared"
		msgs := events(topic, 500)
		publish(t, b, msgs)
		p := sink(topic, nil)
		var prepared, calls int
		p.Prepare = func(ctx context.Context, batch []stream.Record[event]) error {
			calls++
			if calls == 1 {
				return fmt.Errorf("a transient failure")
			}
			// Outside the transaction: the store's write lock is free.
			unlock, err := s.LockWrites(ctx)
			if err != nil {
				return err
			}
			unlock()
			prepared += len(batch)
			return nil
		}
		runUntil(t, p, stream.Env{Bus: b, Store: s, MaxBatch: 100}, len(msgs))
		if got, want := dump(t, s), expected(msgs); got != want {
			t.Fatalf("sink tables differ from the events:\n%s", diff(got, want))
		}
		if prepared < len(msgs) || calls < 2 {
			t.Errorf("Prepare saw %d records in %d calls, want all %d after a failure", prepared, calls, len(msgs))
		}
	})
}
