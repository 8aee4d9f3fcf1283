package quality

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/hr/hrtest"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// changeEvent returns a change event of a as podium's captures publish it,
// with message ID id.
func changeEvent(t *testing.T, op cdc.Op, a activities.Activity, id string) *bus.Message {
	t.Helper()
	row, err := json.Marshal(map[string]any{"id": a.ID, "employee_id": a.EmployeeID,
		"start_time": a.StartTime.Format(time.RFC3339Nano), "sport_type": a.SportType, "distance_m": a.DistanceM,
		"elapsed_s": a.ElapsedS, "comment": a.Comment, "source": a.Source, "updated_at": a.UpdatedAt.Format(time.RFC3339Nano)})
	if err != nil {
		t.Fatal(err)
	}
	ev := cdc.Event{Op: op, TsMs: time.Now().UnixMilli(), Source: cdc.Source{Version: "podium", Connector: "sqlite",
		Name: "sportsdata", Table: activities.Table}}
	if op == cdc.OpDelete {
		ev.Before = row
	} else {
		ev.After = row
	}
	v, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return &bus.Message{Topic: activities.TopicActivities, Key: fmt.Sprintf(`{"id":%d}`, a.ID), Value: v, ID: id,
		Headers: map[string]string{"trace": id}}
}

// TestProcessor runs the processor on each bus and store: good events
// arrive unchanged on the validated topic, bad ones land in the quarantine
// with their rule and value and are not forwarded, the metric counts them,
// and a re-read (positions lost) quarantines nothing twice.
func TestProcessor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
			ctx := context.Background()
			b := enginetest.Open(t, e)
			s := storetest.Open(t, d)
			reg := hrtest.Sample(t, s)
			emp := reg.Employees[0].ID
			now := time.Now().UTC().Truncate(time.Second)
			good := activities.Activity{ID: 1, EmployeeID: emp, StartTime: now.Add(-2 * time.Hour), SportType: "Run",
				DistanceM: 8000, ElapsedS: 2400, Source: activities.SourceAPI, UpdatedAt: now}
			nobody, far, fast := good, good, good
			nobody.ID, nobody.EmployeeID = 2, "NOBODY"
			far.ID, far.DistanceM = 3, 450000
			fast.ID, fast.DistanceM, fast.ElapsedS, fast.SportType = 4, 100000, 1800, "Rowing" // 200 km/h: a warning
			msgs := []*bus.Message{
				changeEvent(t, cdc.OpCreate, good, "ev-1"),
				changeEvent(t, cdc.OpCreate, nobody, "ev-2"),
				changeEvent(t, cdc.OpUpdate, far, "ev-3"),
				changeEvent(t, cdc.OpCreate, fast, "ev-4"),
				changeEvent(t, cdc.OpDelete, nobody, "ev-5"),
				{Topic: activities.TopicActivities, Key: `{"id":2}`}, // tombstone
				{Topic: activities.TopicActivities, Key: `{"id":9}`, Value: []byte(`not json`)},
			}
			if err := b.Publish(ctx, msgs...); err != nil {
				t.Fatal(err)
			}
			promReg := prometheus.NewRegistry()
			metrics := NewMetrics(promReg)
			run := func() (stop func()) {
				rctx, cancel := context.WithCancel(ctx)
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := Processor(Config{Metrics: metrics}).Run(rctx, stream.Env{Bus: b, Store: s}); err != nil {
						t.Errorf("run: %v", err)
					}
				}()
				return func() { cancel(); wg.Wait() }
			}
			stop := run()
			// The validated topic gets the good event, the warning, the
			// delete and the tombstone, unchanged, in order.
			c, err := b.Consume(ctx, bus.ConsumerConfig{Topic: activities.TopicValidated, Start: bus.Earliest})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var got []*bus.Message
			fctx, fcancel := context.WithTimeout(ctx, 30*time.Second)
			defer fcancel()
			for len(got) < 4 {
				batch, err := c.Fetch(fctx, 10)
				if err != nil {
					t.Fatalf("fetch validated events (have %d): %v", len(got), err)
				}
				got = append(got, batch...)
			}
			want := []*bus.Message{msgs[0], msgs[3], msgs[4], msgs[5]}
			match := func(g, w *bus.Message) bool {
				return g.Key == w.Key && string(g.Value) == string(w.Value) && g.Headers["trace"] == w.Headers["trace"] &&
					(w.ID == "" || g.ID == w.ID)
			}
			for _, w := range want {
				found := false
				for _, g := range got {
					found = found || match(g, w)
				}
				if !found {
					t.Errorf("validated topic lacks %s %s", w.Key, w.ID)
				}
			}
			for _, g := range got {
				if g.ID == "ev-2" || g.ID == "ev-3" {
					t.Errorf("quarantined event %s was forwarded", g.ID)
				}
			}
			waitQuarantine := func(n int) {
				t.Helper()
				deadline := time.Now().Add(30 * time.Second)
				for {
					var have int
					if err := s.DB().QueryRow(`SELECT COUNT(*) FROM ` + TableQuarantine).Scan(&have); err == nil && have == n {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("timed out waiting for %d quarantined events", n)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			waitQuarantine(2)
			rows, err := s.DB().Query(`SELECT event_id, activity_id, op, rule, message, failures, event FROM ` + TableQuarantine + ` ORDER BY event_id`)
			if err != nil {
				t.Fatal(err)
			}
			var quarantined []string
			for rows.Next() {
				var id, op, rule, msg, failures, ev string
				var act int64
				if err := rows.Scan(&id, &act, &op, &rule, &msg, &failures, &ev); err != nil {
					t.Fatal(err)
				}
				quarantined = append(quarantined, fmt.Sprintf("%s %d %s %s %s", id, act, op, rule, msg))
				if id == "ev-3" && !strings.Contains(failures, `"distance_m":450000`) {
					t.Errorf("quarantined failures lack the failing value: %s", failures)
				}
				if id == "ev-2" && (!strings.Contains(failures, `"employee_id":"NOBODY"`) || ev != string(msgs[1].Value)) {
					t.Errorf("quarantined ev-2: failures %s, event %s", failures, ev)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if strings.Join(quarantined, "|") != "ev-2 2 c employee_exists false|ev-3 3 u distance_in_range false" {
				t.Errorf("quarantine: %q", quarantined)
			}
			// Metrics are counted after the commit: wait for them.
			deadline := time.Now().Add(10 * time.Second)
			for testutil.ToFloat64(metrics.forwarded) < 4 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			for _, m := range []struct {
				c    prometheus.Collector
				want float64
			}{
				{metrics.failures.WithLabelValues("employee_exists", "error"), 1},
				{metrics.failures.WithLabelValues("distance_in_range", "error"), 1},
				{metrics.failures.WithLabelValues("plausible_speed", "warning"), 2},   // the fast one and the far one
				{metrics.failures.WithLabelValues("run_speed_plausible", "error"), 1}, // the far one
				{metrics.quarantined, 2},
				{metrics.forwarded, 4},
			} {
				if got := testutil.ToFloat64(m.c); got != m.want {
					t.Errorf("metric %v = %v, want %v", m.c, got, m.want)
				}
			}
			var flags int
			if err := s.DB().QueryRow(`SELECT COUNT(*) FROM activities_flags WHERE rule = 'plausible_speed' AND activity_id = 4`).Scan(&flags); err != nil || flags != 1 {
				t.Errorf("the flag of the fast one: %d rows, %v; want 1", flags, err)
			}
			// A series per rule, at 0 for the rules nothing failed.
			if n, err := testutil.GatherAndCount(promReg, "podium_quality_failures_total"); err != nil || n != len(Default().RowRules(activities.Table)) {
				t.Errorf("podium_quality_failures_total series: %d, %v; want one per row rule", n, err)
			}
			stop()

			// Lose the positions: the restart reads everything again and
			// quarantines nothing twice.
			if _, err := s.DB().Exec(`DELETE FROM podium_positions WHERE processor = $1`, Name); err != nil {
				t.Fatal(err)
			}
			before := testutil.ToFloat64(metrics.quarantined)
			stop = run()
			deadline = time.Now().Add(30 * time.Second)
			for testutil.ToFloat64(metrics.quarantined) < before+2 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			stop()
			waitQuarantine(2)
			if e == enginetest.JetStream {
				// The duplicate publishes carried the same message IDs:
				// JetStream dropped them.
				topics, err := b.Topics(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, tp := range topics {
					if tp.Name == activities.TopicValidated && tp.Messages != 4 {
						t.Errorf("%s holds %d messages after the re-read, want 4", tp.Name, tp.Messages)
					}
				}
			}
		})
	})
}

func TestEventRow(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name, after string
		want        map[string]any // columns checked; nil value: absent
	}{
		{"typed", `{"id":7,"employee_id":"E1","start_time":"2026-01-02T03:04:05Z","sport_type":"Run","distance_m":5000,"elapsed_s":60,"comment":"","source":"api","updated_at":"2026-01-02T03:04:05Z"}`,
			map[string]any{"id": int64(7), "distance_m": 5000.0, "elapsed_s": int64(60), "start_time": start, "comment": ""}},
		{"nulls and missing are absent", `{"id":7,"employee_id":"E1","start_time":"2026-01-02T03:04:05Z","sport_type":"Run","comment":null,"source":"api"}`,
			map[string]any{"comment": nil, "distance_m": nil, "updated_at": nil, "id": int64(7)}},
		{"extra columns", `{"id":7,"employee_id":"E1","start_time":"2026-01-02T03:04:05Z","sport_type":"Run","source":"api","heart_rate":142,"device":"watch","pace":4.5}`,
			map[string]any{"heart_rate": int64(142), "device": "watch", "pace": 4.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			value := []byte(`{"op":"c","before":null,"after":` + tt.after + `,"source":{},"ts_ms":1}`)
			c, err := cdc.Decode(value)
			if err != nil {
				t.Fatal(err)
			}
			row := EventRow(&c)
			for k, w := range tt.want {
				g, ok := row[k]
				if w == nil {
					if ok {
						t.Errorf("%s = %v, want absent", k, g)
					}
					continue
				}
				if gt, isT := g.(time.Time); isT {
					if !gt.Equal(w.(time.Time)) {
						t.Errorf("%s = %v, want %v", k, g, w)
					}
					continue
				}
				if g != w {
					t.Errorf("%s = %v (%T), want %v (%T)", k, g, g, w, w)
				}
			}
		})
	}
}
