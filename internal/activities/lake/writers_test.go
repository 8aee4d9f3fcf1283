package lake

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/hr/hrtest"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// TestWritersKeepEachOthersPositions runs two writers of the sink on one
// lake, as two workers sharing the topic's partitions do, and checks that
// neither drops the other's positions from the tables, whatever reloads
// the tables in between: the conflict of a commit, and maintenance, which
// reloads the tables to see the tags other processes put on their
// snapshots. A writer that reloaded its tables without their positions
// committed its next batch on the other writer's snapshot with its own,
// older, positions: the other writer's partition went back to offset 0 in
// the tables, and its events were read, and bronze took them, again (seen
// in the multi-worker crash test: an event twice in bronze, a lake lag that
// never fell to 0).
func TestWritersKeepEachOthersPositions(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	reg := hrtest.Sample(t, s)
	employee := reg.Employees[0].ID
	cfg := Config{Lake: lakehouse.Config{Warehouse: filepath.Join(t.TempDir(), "warehouse")}, Policy: rewards.DefaultPolicy(),
		Topic: activities.TopicValidated, MaintainEvery: time.Nanosecond, CompactFiles: -1, Now: time.Now}
	env := stream.Env{Store: s, Logger: slog.New(slog.DiscardHandler)}
	openRun := func() *run {
		r, err := open(ctx, cfg, env)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	// events are the changes of partition part from offset from to to.
	events := func(part int32, from, to int64) []stream.Record[decoded] {
		var recs []stream.Record[decoded]
		for off := from; off < to; off++ {
			id := int64(part)*1000 + off + 1
			m := &bus.Message{Topic: cfg.Topic, Partition: part, Offset: off, ID: fmt.Sprintf("event-%d", id)}
			a := &activities.Activity{ID: id, EmployeeID: employee, StartTime: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Hour),
				SportType: "Run", DistanceM: 5000, ElapsedS: 1800, Source: activities.SourceGenerator, UpdatedAt: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}
			recs = append(recs, stream.Record[decoded]{Msg: m, Value: decoded{msg: m, change: cdc.Change{Op: cdc.OpCreate, ID: id, After: a}}})
		}
		return recs
	}
	commit := func(r *run, recs []stream.Record[decoded]) {
		t.Helper()
		if err := r.Commit(ctx, recs, nil); err != nil {
			t.Fatal(err)
		}
	}

	a, b := openRun(), openRun()
	commit(b, events(1, 0, 5))
	commit(a, events(0, 0, 10)) // a conflict with b's commit first
	b.maintain(ctx)             // b reloads the tables: a's commit is its base now
	commit(b, events(1, 5, 10)) // so no conflict here

	want := Positions{0: 10, 1: 10}
	c := openRun()
	for _, name := range Tables {
		if got := c.tables[name].pos; !maps.Equal(got, want) {
			t.Errorf("%s records positions %v after both writers' batches, want %v", name, got, want)
		}
	}
	// A copy of a's events read again (a worker that took partition 0
	// over from stale positions) adds nothing.
	commit(c, events(0, 0, 10))
	rows, err := c.tables[TableBronze].Scan(ctx, lakehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 20 {
		t.Errorf("bronze holds %d rows, want the 20 events once each", len(rows))
	}
}

func TestFresh(t *testing.T) {
	ds := []*decoded{
		{msg: &bus.Message{Partition: 0, Offset: 5}},
		{msg: &bus.Message{Partition: 1, Offset: 2}},
		{msg: &bus.Message{Partition: 0, Offset: 6}},
		{msg: &bus.Message{Partition: 1, Offset: 3}},
	}
	for _, tc := range []struct {
		name string
		p    Positions
		want []int // indexes into ds
	}{
		{"none applied", Positions{}, []int{0, 1, 2, 3}},
		{"all fresh", Positions{0: 5, 1: 2}, []int{0, 1, 2, 3}},
		{"first stale", Positions{0: 6}, []int{1, 2, 3}},
		{"some stale", Positions{0: 6, 1: 3}, []int{2, 3}},
		{"last stale", Positions{1: 4}, []int{0, 2}},
		{"all stale", Positions{0: 7, 1: 4}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fresh(tc.p, slices.Clone(ds))
			var want []*decoded
			for _, i := range tc.want {
				want = append(want, ds[i])
			}
			if !slices.Equal(got, want) {
				t.Errorf("fresh = %v, want %v", got, want)
			}
		})
	}
	in := slices.Clone(ds)
	if fresh(Positions{0: 6}, in); !slices.Equal(in, ds) {
		t.Errorf("fresh changed its input: %v", in)
	}
}
