package rewards_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/hr/hrtest"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// event builds a change event message as a Debezium connector writes it.
func event(t *testing.T, op cdc.Op, id int64, before, after any) *bus.Message {
	t.Helper()
	raw := func(v any) json.RawMessage {
		if v == nil {
			return nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ev := cdc.Event{Op: op, Before: raw(before), After: raw(after), TsMs: time.Now().UnixMilli(),
		Source: cdc.Source{Version: "test", Connector: "postgresql", Name: "sportsdata", Schema: "public", Table: activities.Table}}
	if op == cdc.OpMessage {
		ev.Message = &cdc.LogicalMessage{Prefix: "test", Content: []byte("hello")}
	}
	v, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return &bus.Message{Topic: activities.TopicValidated, Key: fmt.Sprintf(`{"id":%d}`, id), Value: v}
}

func act(id int64, emp, at string) activities.Activity {
	t, _ := time.Parse(time.RFC3339, at)
	return activities.Activity{ID: id, EmployeeID: emp, StartTime: t, SportType: "Run", DistanceM: 8000,
		ElapsedS: 2400, Source: activities.SourceAPI, UpdatedAt: t}
}

type goldFigures struct {
	activities int
	flag       string
}

func gold(t *testing.T, s *store.Store) map[string]goldFigures {
	t.Helper()
	rows, err := s.DB().Query(`SELECT employee_id, year, activities, declaration_flag FROM activities_gold`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]goldFigures{}
	for rows.Next() {
		var emp, flag string
		var year, n int
		if err := rows.Scan(&emp, &year, &n, &flag); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("%s/%d", emp, year)] = goldFigures{n, flag}
	}
	return out
}

// TestChangeEvents feeds the processor the events a Debezium connector
// writes — tombstones, logical messages, deletes whose before image holds
// only the key, truncates — and checks the gold rows after each step.
func TestChangeEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
			ctx := context.Background()
			b := enginetest.Open(t, e)
			s := storetest.Open(t, d)
			reg := hrtest.Sample(t, s)
			// An employee who commutes by car: no bonus, nothing to flag.
			var emp string
			for _, e := range reg.Employees {
				if e.CommuteMode == hr.Car {
					emp = e.ID
					break
				}
			}
			env := stream.Env{Bus: b, Store: s}
			procs := []stream.Runnable{rewards.Processor(rewards.DefaultPolicy(), nil)}
			steps := []struct {
				name string
				msgs []*bus.Message
				want map[string]goldFigures
			}{
				{"inserts, a tombstone and a message", []*bus.Message{
					event(t, cdc.OpCreate, 1, nil, act(1, emp, "2025-06-01T07:00:00Z")),
					event(t, cdc.OpRead, 2, nil, act(2, emp, "2025-06-02T07:00:00Z")),
					{Topic: activities.TopicValidated, Key: `{"id":3}`},
					event(t, cdc.OpMessage, 0, nil, nil),
					event(t, cdc.OpCreate, 5, nil, act(5, "nobody", "2024-12-31T23:30:00Z")),
				}, map[string]goldFigures{emp + "/2025": {2, ""}, "nobody/2025": {1, "not in the HR register"}}},
				{"a delete with the key only, an update moving a year", []*bus.Message{
					event(t, cdc.OpDelete, 1, map[string]any{"id": 1}, nil),
					event(t, cdc.OpUpdate, 5, nil, act(5, "nobody", "2024-12-31T22:30:00Z")),
				}, map[string]goldFigures{emp + "/2025": {1, ""}, "nobody/2024": {1, "not in the HR register"}}},
				{"a truncate, then an insert", []*bus.Message{
					event(t, cdc.OpTruncate, 0, nil, nil),
					event(t, cdc.OpCreate, 6, nil, act(6, emp, "2026-01-01T10:00:00Z")),
				}, map[string]goldFigures{emp + "/2026": {1, ""}}},
			}
			for _, st := range steps {
				if err := b.Publish(ctx, st.msgs...); err != nil {
					t.Fatal(err)
				}
				cctx, cancel := context.WithTimeout(ctx, time.Minute)
				err := ops.CatchUp(cctx, env, procs, nil)
				cancel()
				if err != nil {
					t.Fatalf("%s: catch up: %v", st.name, err)
				}
				got := gold(t, s)
				if len(got) != len(st.want) {
					t.Errorf("%s: gold %v, want %v", st.name, got, st.want)
				}
				for k, w := range st.want {
					if got[k] != w {
						t.Errorf("%s: gold %s = %+v, want %+v", st.name, k, got[k], w)
					}
				}
			}
		})
	})
}
