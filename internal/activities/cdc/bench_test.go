package cdc

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"golang.org/x/sync/errgroup"
)

// BenchmarkPostgresCapture measures the PostgreSQL capture: changes/s from
// commit to the bus, and the latency from commit to the event read from
// the bus (p50, p99), with b.N inserts (run with e.g. -benchtime 100000x):
//
//   - max: transactions of 100 rows, written as fast as one writer can;
//   - rate=10000: 10,000 rows/s, in transactions of 20 rows every 2 ms;
//   - rate=25000: 25,000 rows/s, in transactions of 50 rows every 2 ms
//     (issue 13's steady target: p99 under 30 ms);
//
// (the rate modes write from 4 connections, each its share of the
// transactions on the same schedule: one connection's round trips do not
// reach 25,000 rows/s on a 2-core machine, and the benchmark measures the
// capture, not the writer);
//
//   - catch-up: the rows are written while the capture is stopped, then
//     the capture starts: changes/s of the capture and the bus alone.
//
// cpu-us/change is the process's CPU time per change over the measured
// span (getrusage: user + system), which holds better than rates on a
// shared machine; in catch-up it is the capture's, the embedded
// JetStream's and the reader's, in the other modes the writer's too.
func BenchmarkPostgresCapture(b *testing.B) { benchCapture(b, store.Postgres) }

// processCPU is the CPU time (user and system) the process used so far:
// the capture, the embedded JetStream server and the benchmark's writer and
// reader; not the database server's.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSQLiteCapture is BenchmarkPostgresCapture on SQLite.
func BenchmarkSQLiteCapture(b *testing.B) { benchCapture(b, store.SQLite) }

func benchCapture(b *testing.B, d store.Dialect) {
	modes := []struct {
		name    string
		rate    int // rows per second, 0 for as fast as possible
		txRows  int
		writers int  // connections writing
		catchUp bool // write everything while the capture is stopped
	}{
		{"max", 0, 100, 1, false},
		{"rate=10000", 10000, 20, 4, false},
		{"rate=25000", 25000, 50, 4, false},
		{"catch-up", 0, 100, 1, true},
	}
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			e := newEnv(b, d)
			bs := enginetest.Open(b, enginetest.JetStream)
			e.cfg.MaxBatch = 0 // the default
			c := run(b, e.capture(b, e.cfg), bs)
			e.waitReady(b, c)
			consumer, err := bs.Consume(context.Background(), bus.ConsumerConfig{Topic: activities.TopicActivities, Start: bus.Earliest})
			if err != nil {
				b.Fatal(err)
			}
			defer consumer.Close()

			n := b.N
			commitAt := make([]atomic.Int64, n+1) // by row id; 0 is the warm-up row
			lat := make([]time.Duration, 0, n)

			var received atomic.Int64
			warm, all := make(chan struct{}), make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				got := 0
				for {
					msgs, err := consumer.Fetch(ctx, 5000)
					if err != nil {
						return
					}
					now := time.Now()
					for _, m := range msgs {
						id, ok, err := DecodeKey([]byte(m.Key))
						if err != nil || !ok || id < 0 || id > int64(n) {
							continue
						}
						if id == 0 {
							close(warm)
							continue
						}
						lat = append(lat, now.Sub(time.Unix(0, commitAt[id].Load())))
						received.Add(1)
						if got++; got == n {
							close(all)
							return
						}
					}
				}
			}()
			write := func(first, count int) error {
				acts := make([]activities.Activity, count)
				start := time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC)
				for i := range acts {
					id := int64(first + i)
					acts[i] = activities.Activity{ID: id, EmployeeID: fmt.Sprintf("emp-%03d", id%500), StartTime: start.Add(time.Duration(id) * time.Minute),
						SportType: "run", DistanceM: float64(id % 20000), ElapsedS: int(id % 7200), Comment: "benchmark", Source: activities.SourceGenerator}
				}
				tx, err := e.st.DB().BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				defer func() { _ = tx.Rollback() }()
				if d == store.Postgres {
					// PostgreSQL's default: the commit flushes the WAL, and
					// logical decoding sees it at once. (With
					// synchronous_commit off, as .ci/run's cluster has it,
					// the WAL writer flushes every wal_writer_delay, 200 ms,
					// and the capture sees commits that much later.)
					if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
						return err
					}
				}
				if err := activities.Upsert(ctx, tx, acts...); err != nil {
					return err
				}
				t0 := time.Now().UnixNano()
				for i := range acts {
					commitAt[first+i].Store(t0)
				}
				return tx.Commit()
			}
			// Warm up: the first event creates the topic.
			if err := write(0, 1); err != nil {
				b.Fatal(err)
			}
			select {
			case <-warm:
			case <-time.After(time.Minute):
				b.Fatal("the warm-up event did not arrive")
			}

			if mode.catchUp {
				if err := c.stop(); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			start, cpu0 := time.Now(), processCPU(b)
			var writers errgroup.Group
			for w := range mode.writers {
				writers.Go(func() error {
					for first := 1 + w*mode.txRows; first <= n; first += mode.writers * mode.txRows {
						if mode.rate > 0 {
							if wait := time.Until(start.Add(time.Duration(first-1) * time.Second / time.Duration(mode.rate))); wait > 0 {
								time.Sleep(wait)
							}
						}
						if err := write(first, min(mode.txRows, n-first+1)); err != nil {
							return err
						}
					}
					return nil
				})
			}
			if err := writers.Wait(); err != nil {
				b.Fatal(err)
			}
			if mode.catchUp {
				// Changes/s of the capture alone: from its start to the
				// last event read.
				b.StopTimer()
				b.ResetTimer()
				start, cpu0 = time.Now(), processCPU(b)
				run(b, e.capture(b, e.cfg), bs)
				b.StartTimer()
			}
			select {
			case <-all:
			case <-time.After(5 * time.Minute):
				b.Fatalf("only %d of %d events arrived", received.Load(), n)
			}
			elapsed, cpu := time.Since(start), processCPU(b)-cpu0
			b.StopTimer()
			slices.Sort(lat)
			q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(float64(n)/elapsed.Seconds(), "changes/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-us/change")
			if !mode.catchUp {
				b.ReportMetric(q(0.50), "p50-ms")
				b.ReportMetric(q(0.99), "p99-ms")
				b.ReportMetric(q(1), "max-ms")
			}
		})
	}
}
