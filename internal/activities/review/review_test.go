package review_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/hr/hrtest"
	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/activities/review"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// waitUntil polls cond for up to a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pipeline is the activities pipeline on a SQLite store and a bus: the
// capture, the quality stage, rewards and the lake.
type pipeline struct {
	s    *store.Store
	wh   string
	lake *lakehouse.Lake
	q    *review.Queue
}

func (p *pipeline) gold(t *testing.T, emp string) (acts int, meters int64) {
	t.Helper()
	err := p.s.DB().QueryRow(`SELECT COALESCE(SUM(activities), 0), COALESCE(SUM(distance_m), 0) FROM `+rewards.TableGold+
		` WHERE employee_id = $1`, emp).Scan(&acts, &meters)
	if err != nil {
		return 0, 0
	}
	return acts, meters
}

// lakeCount counts the rows of a lake table whose column col equals v.
func (p *pipeline) lakeCount(t *testing.T, table, col string, v any) int {
	t.Helper()
	tb, err := p.lake.Table(context.Background(), table)
	if errors.Is(err, lakehouse.ErrNoSuchTable) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	cols := tb.Columns()
	idx := -1
	for i, c := range cols {
		if c.Name == col {
			idx = i
		}
	}
	rows, err := tb.Scan(context.Background(), lakehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r[idx] == v {
			n++
		}
	}
	return n
}

// startPipeline runs the pipeline on a SQLite store and a bus of engine e until
// the test ends, with the sample HR register; it returns the pipeline and
// the first employee's id.
func startPipeline(t *testing.T, e enginetest.Engine) (*pipeline, bus.Bus, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := storetest.Open(t, store.SQLite)
	b := enginetest.Open(t, e)
	reg := hrtest.Sample(t, s)
	emp := reg.Employees[0].ID
	if err := review.Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	capture, err := cdc.New(s, cdc.Config{Name: "review"})
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{s: s, wh: t.TempDir()}
	env := stream.Env{Bus: b, Store: s}
	stages := []stream.Runnable{
		quality.Processor(quality.Config{}),
		rewards.Processor(rewards.DefaultPolicy(), nil),
		lake.Runnable(lake.Config{Lake: lakehouse.Config{Warehouse: p.wh}, Policy: rewards.DefaultPolicy(),
			CommitInterval: 50 * time.Millisecond}),
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		if err := capture.Run(ctx, b); err != nil && ctx.Err() == nil {
			t.Errorf("capture: %v", err)
		}
	})
	for _, st := range stages {
		wg.Go(func() {
			if err := st.Run(ctx, env); err != nil && ctx.Err() == nil {
				t.Errorf("stage: %v", err)
			}
		})
	}
	p.lake, err = lakehouse.Open(ctx, s.DB(), lakehouse.Dialect(s.Dialect()), lakehouse.Config{Warehouse: p.wh})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.lake.Close() })
	p.q = &review.Queue{Store: s, Bus: b}
	return p, b, emp
}

// TestReviewApproveOnce: a run at 30 km/h is held; approved, it counts in
// the rewards' gold and in the lake's silver and gold, once — even when its
// release is repeated (a crash before the release was recorded) — and the
// decision is in the employee's history; a rejected one never counts.
func TestReviewApproveOnce(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
		ctx := context.Background()
		p, _, emp := startPipeline(t, e)
		s := p.s

		start := time.Date(2025, 6, 3, 6, 0, 0, 0, time.UTC)
		good := activities.Activity{ID: 1, EmployeeID: emp, StartTime: start, SportType: "Run", DistanceM: 10000, ElapsedS: 3000,
			MovingS: 2950, Source: activities.SourceAPI}
		fast := activities.Activity{ID: 2, EmployeeID: emp, StartTime: start.Add(24 * time.Hour), SportType: "Run",
			DistanceM: 10000, ElapsedS: 1250, MovingS: 1200, Source: activities.SourceAPI} // 30 km/h
		cheat := activities.Activity{ID: 3, EmployeeID: emp, StartTime: start.Add(48 * time.Hour), SportType: "Run",
			DistanceM: 21000, ElapsedS: 1800, MovingS: 1800, Source: activities.SourceAPI} // 42 km/h
		if err := activities.Upsert(ctx, s.DB(), good, fast, cheat); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the good run counted and two held", func() bool {
			n, _ := p.gold(t, emp)
			held, _ := review.List(ctx, s.DB(), review.Filter{})
			return n == 1 && len(held) == 2
		})
		held, err := review.List(ctx, s.DB(), review.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range held {
			if h.Rule != "run_speed_plausible" || h.Activity == nil || h.EmployeeID != emp {
				t.Errorf("held %+v, want run_speed_plausible with its activity", h)
			}
		}
		if h := held[len(held)-1]; h.ActivityID == 2 && (h.SpeedKmh() < 29.9 || h.SpeedKmh() > 30.1) {
			t.Errorf("speed %.2f km/h, want 30", h.SpeedKmh())
		}
		waitUntil(t, "the good run in the lake", func() bool { return p.lakeCount(t, lake.TableSilver, "id", int64(1)) == 1 })

		// Decisions need a reason and a name.
		if _, err := p.q.Approve(ctx, "2", "hr-anna", " "); err == nil {
			t.Error("an approval without a reason was accepted")
		}
		if _, err := p.q.Approve(ctx, "99", "hr-anna", "ok"); !errors.Is(err, review.ErrNotFound) {
			t.Errorf("approve of an unknown id: %v", err)
		}
		h, err := p.q.Approve(ctx, "2", "hr-anna", "GPS track checked: a downhill road race")
		if err != nil {
			t.Fatal(err)
		}
		if h.Status != quality.StatusApproved || h.Decision == nil || h.Decision.By != "hr-anna" {
			t.Errorf("approved: %+v", h)
		}
		if _, err := p.q.Reject(ctx, "3", "hr-anna", "42 km/h on foot"); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the approved run in rewards and the lake", func() bool {
			n, _ := p.gold(t, emp)
			return n == 2 && p.lakeCount(t, lake.TableSilver, "id", int64(2)) == 1
		})

		// Released again (a crash between the publish and its record): the
		// same message, the same counts.
		if _, err := s.DB().Exec(`UPDATE activities_quarantine SET released_at = NULL WHERE activity_id = 2`); err != nil {
			t.Fatal(err)
		}
		if _, err := p.q.Approve(ctx, "2", "hr-anna", "again"); err != nil {
			t.Fatalf("a second release: %v", err)
		}
		if _, err := p.q.Approve(ctx, "2", "hr-bob", "again"); err == nil || !strings.Contains(err.Error(), "already approved by hr-anna") {
			t.Errorf("a second decision: %v", err)
		}
		// Let the stages take whatever came; then everything is counted once.
		good2 := activities.Activity{ID: 4, EmployeeID: emp, StartTime: start.Add(72 * time.Hour), SportType: "Walk",
			DistanceM: 3000, ElapsedS: 2400, Source: activities.SourceAPI}
		if err := activities.Upsert(ctx, s.DB(), good2); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "a later activity through every stage", func() bool {
			n, _ := p.gold(t, emp)
			return n == 3 && p.lakeCount(t, lake.TableSilver, "id", int64(4)) == 1
		})
		if n, m := p.gold(t, emp); n != 3 || m != 23000 {
			t.Errorf("rewards gold: %d activities, %d m; want 3, 23000 (the approved run once, the rejected never)", n, m)
		}
		if n := p.lakeCount(t, lake.TableSilver, "id", int64(3)); n != 0 {
			t.Error("the rejected run is in the lake")
		}
		if n := p.lakeCount(t, lake.TableBronze, "activity_id", int64(2)); n != 1 {
			t.Errorf("the approved run's event is %d times in bronze, want once", n)
		}
		waitUntil(t, "the lake's gold", func() bool {
			tb, err := p.lake.Table(ctx, lake.TableGold)
			if err != nil {
				return false
			}
			rows, err := tb.Scan(ctx, lakehouse.ScanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r[0] == emp && r[3] == int32(3) {
					return true
				}
			}
			return false
		})

		// The employee's history: both decisions, who, when, why.
		hist, err := review.EmployeeHistory(ctx, s.DB(), emp)
		if err != nil {
			t.Fatal(err)
		}
		decided := map[int64]string{}
		for _, x := range hist.Held {
			if x.Decision != nil {
				decided[x.ActivityID] = x.Decision.Decision + "/" + x.Decision.By + "/" + x.Decision.Reason
			}
		}
		if decided[2] != "approved/hr-anna/GPS track checked: a downhill road race" || decided[3] != "rejected/hr-anna/42 km/h on foot" {
			t.Errorf("history %v", decided)
		}
		// A later edit of the approved run is not held again for the
		// approved rule.
		fast.Comment = "downhill race"
		if err := activities.Upsert(ctx, s.DB(), fast); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the edit flagged, not held", func() bool {
			var n int
			_ = s.DB().QueryRow(`SELECT COUNT(*) FROM activities_flags WHERE activity_id = 2 AND rule = 'run_speed_plausible'`).Scan(&n)
			return n == 1
		})
		if held, _ := review.List(ctx, s.DB(), review.Filter{}); len(held) != 0 {
			t.Errorf("%d held after the edit of an approved activity", len(held))
		}
	})
}

// refusing is a bus whose publishes fail while down is set: the bus as the
// review queue sees it during an outage.
type refusing struct {
	bus.Bus
	down      atomic.Bool
	published atomic.Int64
}

func (r *refusing) Publish(ctx context.Context, msgs ...*bus.Message) error {
	if r.down.Load() {
		return errors.New("connection refused")
	}
	r.published.Add(int64(len(msgs)))
	return r.Bus.Publish(ctx, msgs...)
}

// TestReviewApproveWhileBusDown: two runs approved while the bus refuses
// publishes — the approvals are recorded, marked to release, and nothing
// counts; one of them is edited meanwhile. Once the bus is back, the
// release loop (as serve runs it) publishes the unchanged one, once, so
// that rewards and the lake count it once, and not the edited one's stale
// version, whose newer version counted on its own.
func TestReviewApproveWhileBusDown(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p, b, emp := startPipeline(t, e)
		rb := &refusing{Bus: b}
		q := &review.Queue{Store: p.s, Bus: rb}

		start := time.Date(2025, 6, 3, 6, 0, 0, 0, time.UTC)
		good := activities.Activity{ID: 1, EmployeeID: emp, StartTime: start, SportType: "Run", DistanceM: 10000, ElapsedS: 3000,
			MovingS: 2950, Source: activities.SourceAPI}
		fast := activities.Activity{ID: 2, EmployeeID: emp, StartTime: start.Add(24 * time.Hour), SportType: "Run",
			DistanceM: 10000, ElapsedS: 1250, MovingS: 1200, Source: activities.SourceAPI} // 30 km/h
		edited := activities.Activity{ID: 3, EmployeeID: emp, StartTime: start.Add(48 * time.Hour), SportType: "Run",
			DistanceM: 21000, ElapsedS: 2700, MovingS: 2700, Source: activities.SourceAPI} // 28 km/h
		if err := activities.Upsert(ctx, p.s.DB(), good, fast, edited); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the good run counted and two held", func() bool {
			n, _ := p.gold(t, emp)
			held, _ := review.List(ctx, p.s.DB(), review.Filter{})
			return n == 1 && len(held) == 2
		})

		rb.down.Store(true)
		for _, id := range []string{"2", "3"} {
			_, err := q.Approve(ctx, id, "hr-anna", "GPS track checked")
			if err == nil || !strings.Contains(err.Error(), "the approval is recorded") || !strings.Contains(err.Error(), "connection refused") {
				t.Fatalf("approve %s while the bus is down: %v, want the approval recorded and the release failed", id, err)
			}
		}
		approved, err := review.List(ctx, p.s.DB(), review.Filter{Status: quality.StatusApproved})
		if err != nil {
			t.Fatal(err)
		}
		if len(approved) != 2 {
			t.Fatalf("%d approved, want 2", len(approved))
		}
		for _, h := range approved {
			if !h.Unreleased() || h.Decision == nil || h.Decision.By != "hr-anna" || h.StatusText() != "approved, waiting for the bus" {
				t.Errorf("approved while the bus is down: %+v (%s)", h, h.StatusText())
			}
		}
		// A second decision is still refused; another approval retries.
		if _, err := q.Reject(ctx, "2", "hr-bob", "no"); err == nil || !strings.Contains(err.Error(), "already approved") {
			t.Errorf("reject of an approved run: %v", err)
		}
		// The third run is edited while its approval waits: its newer
		// version goes through the rules on its own (flagged, not held: the
		// rule was approved for it) and counts.
		edited.DistanceM = 20000
		if err := activities.Upsert(ctx, p.s.DB(), edited); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the edited run counted", func() bool {
			n, m := p.gold(t, emp)
			return n == 2 && m == 30000
		})
		if n := rb.published.Load(); n != 0 {
			t.Fatalf("%d messages went through the refusing bus", n)
		}

		// The bus is back: serve's release loop publishes the waiting one.
		rb.down.Store(false)
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()
		wg.Go(func() { q.Run(ctx, 20*time.Millisecond) })
		waitUntil(t, "the approvals released", func() bool {
			approved, err := review.List(ctx, p.s.DB(), review.Filter{Status: quality.StatusApproved})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range approved {
				if h.Unreleased() {
					return false
				}
			}
			return true
		})
		if n := rb.published.Load(); n != 1 {
			t.Errorf("%d messages released, want 1 (the unchanged run; not the edited run's old version)", n)
		}
		// Let a later activity through every stage; then each counts once.
		later := activities.Activity{ID: 4, EmployeeID: emp, StartTime: start.Add(72 * time.Hour), SportType: "Walk",
			DistanceM: 3000, ElapsedS: 2400, Source: activities.SourceAPI}
		if err := activities.Upsert(ctx, p.s.DB(), later); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the approved run and a later activity through every stage", func() bool {
			n, _ := p.gold(t, emp)
			return n == 4 && p.lakeCount(t, lake.TableSilver, "id", int64(4)) == 1 && p.lakeCount(t, lake.TableSilver, "id", int64(2)) == 1
		})
		if n, m := p.gold(t, emp); n != 4 || m != 43000 {
			t.Errorf("rewards gold: %d activities, %d m; want 4, 43000 (the approved run once, the edited run's newer version)", n, m)
		}
		if n := p.lakeCount(t, lake.TableBronze, "activity_id", int64(2)); n != 1 {
			t.Errorf("the approved run's event is %d times in bronze, want once", n)
		}
		if n := p.lakeCount(t, lake.TableSilver, "distance_m", float64(21000)); n != 0 {
			t.Errorf("the edited run's old version is in the lake's silver")
		}
	})
}
