package activities_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/commute"
	"github.com/podiumhq/podium/internal/activities/generate"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// BenchmarkYearToGold measures the activities pipeline end to end: a year of
// generated activities for 10,000 employees written to sport_activities,
// captured (SQLite triggers, or PostgreSQL logical replication when
// PODIUM_TEST_POSTGRES_URL points at a server with wal_level=logical),
// published to the bus, validated by the data-quality processor and turned
// into the silver and gold tables by the rewards processor. One iteration
// is the whole year; it reports the activities and the seconds from the
// first write until the gold table counts every activity.
// BENCH_EMPLOYEES sets another number of employees (for profiles on a
// busy machine); BENCH_MAXBATCH the processors' batch limit.
func BenchmarkYearToGold(b *testing.B) {
	employees := 10_000
	if n, err := strconv.Atoi(os.Getenv("BENCH_EMPLOYEES")); err == nil && n > 0 {
		employees = n
	}
	reg := bigRegister(b, employees)
	var emps []generate.Employee
	for _, e := range reg.Employees {
		emps = append(emps, generate.Employee{ID: e.ID, Sports: e.Sports})
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		b.Fatal(err)
	}
	acts, err := generate.Year(emps, generate.Config{Year: 2025, Seed: 11, Location: paris})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d employees, %d activities", employees, len(acts))
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) { benchYear(b, d, reg, acts) })
	}
}

func benchYear(b *testing.B, d store.Dialect, reg hr.Register, acts []activities.Activity) {
	for b.Loop() {
		b.StopTimer()
		ctx, cancel := context.WithCancel(context.Background())
		url := storetest.URL(b, d)
		s, err := store.Open(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		if d == store.Postgres {
			var level string
			if err := s.DB().QueryRow(`SHOW wal_level`).Scan(&level); err != nil || level != "logical" {
				b.Skipf("PostgreSQL's wal_level is %q: the change-data capture needs logical", level)
			}
		}
		bs := enginetest.Open(b, enginetest.JetStream)
		if err := hr.Migrate(ctx, s); err != nil {
			b.Fatal(err)
		}
		if _, _, err := hr.Store(ctx, s.DB(), reg); err != nil {
			b.Fatal(err)
		}
		if err := commute.Migrate(ctx, s); err != nil {
			b.Fatal(err)
		}
		if _, err := commute.Check(ctx, s.DB(), commute.Offline{}, commute.SampleOffice()); err != nil {
			b.Fatal(err)
		}
		if err := activities.Migrate(ctx, s); err != nil {
			b.Fatal(err)
		}
		capture, err := cdc.New(s, cdc.Config{URL: url, Name: "bench"})
		if err != nil {
			b.Skipf("change-data-capture on %s: %v", d, err)
		}
		if pg, ok := capture.(*cdc.Postgres); ok {
			b.Cleanup(func() {
				if err := pg.Drop(context.Background()); err != nil {
					b.Errorf("drop the replication slot: %v", err)
				}
			})
		}
		env := stream.Env{Bus: bs, Store: s}
		if n, err := strconv.Atoi(os.Getenv("BENCH_MAXBATCH")); err == nil {
			env.MaxBatch = n
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := capture.Run(ctx, bs); err != nil && ctx.Err() == nil {
				b.Errorf("capture: %v", err)
			}
		})
		for _, p := range pipeline() {
			wg.Go(func() { _ = p.Run(ctx, env) })
		}
		b.StartTimer()
		start := time.Now()
		if err := generate.Backfill(ctx, s, acts, nil); err != nil {
			b.Fatal(err)
		}
		written := time.Since(start)
		// Gold is summed every 20 ms near the end, every 200 ms before: the
		// sum scans the gold table, and asked 50 times a second it took
		// ~1 s of PostgreSQL's CPU from the pipeline it measures.
		for last, stalled := 0, time.Now(); ; {
			n := counted(b, s.DB())
			if n >= len(acts) {
				break
			}
			if n >= len(acts)*9/10 {
				time.Sleep(20 * time.Millisecond)
			} else {
				time.Sleep(200 * time.Millisecond)
			}
			if n != last {
				if os.Getenv("BENCH_TRACE") != "" {
					b.Logf("%v: gold counts %d", time.Since(start).Round(time.Millisecond), n)
				}
				last, stalled = n, time.Now()
			} else if time.Since(stalled) > time.Minute {
				var q int
				_ = s.DB().QueryRow(`SELECT COUNT(*) FROM activities_quarantine`).Scan(&q)
				b.Fatalf("gold stalled at %d activities of %d (%d quarantined)", n, len(acts), q)
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(len(acts))/elapsed.Seconds(), "activities/s")
		b.ReportMetric(elapsed.Seconds(), "s/year")
		b.ReportMetric(written.Seconds(), "s-written")
		cancel()
		wg.Wait()
		s.Close()
		b.StartTimer()
	}
}

// pipeline returns the processors between the change events and gold.
func pipeline() []stream.Runnable {
	return []stream.Runnable{quality.Processor(quality.Config{}), rewards.Processor(rewards.DefaultPolicy(), nil)}
}

// counted returns the activities the gold table counts.
func counted(b *testing.B, db *sql.DB) int {
	var n sql.NullInt64
	if err := db.QueryRow(`SELECT SUM(activities) FROM ` + rewards.TableGold).Scan(&n); err != nil {
		return 0 // the processor has not created it yet
	}
	return int(n.Int64)
}

// bigRegister returns n employees: the sample register's, repeated with
// new ids.
func bigRegister(b *testing.B, n int) hr.Register {
	sample, _, err := hr.Sample(hr.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var reg hr.Register
	for i := 0; len(reg.Employees) < n; i++ {
		e := sample.Employees[i%len(sample.Employees)]
		e.ID = fmt.Sprintf("B%06d", i)
		reg.Employees = append(reg.Employees, e)
	}
	return reg
}
