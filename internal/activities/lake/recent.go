package lake

import (
	"context"
	"fmt"
	"slices"

	"github.com/podiumhq/podium/internal/lakehouse"
)

// dedupeWindow is how many of the latest events of each partition bronze
// remembers the ids of. An event published again — by a stage upstream
// that crashed after publishing and before committing its positions, or by
// the capture after a crash; JetStream drops such a copy, Kafka keeps it —
// follows its first copy within a batch of that stage (at most 5,000
// events), so bronze appends it once.
const dedupeWindow = 20000

// recentEvents remembers the ids of the events bronze took lately.
type recentEvents struct {
	ids   map[string]struct{}
	order []string
	max   int
}

func newRecent(max int) *recentEvents {
	return &recentEvents{ids: map[string]struct{}{}, max: max}
}

// fresh returns the events of ds bronze has not taken (a copy published
// again, within the window, is dropped; so is a second copy within ds).
func (r *recentEvents) fresh(ds []*decoded) []*decoded {
	out := make([]*decoded, 0, len(ds))
	batch := map[string]bool{}
	for _, d := range ds {
		id := eventID(d)
		if _, seen := r.ids[id]; seen || batch[id] {
			continue
		}
		batch[id] = true
		out = append(out, d)
	}
	return out
}

// add remembers the ids of ds, forgetting the oldest beyond the window.
func (r *recentEvents) add(ds []*decoded) {
	for _, d := range ds {
		r.remember(eventID(d))
	}
}

func (r *recentEvents) remember(id string) {
	if _, ok := r.ids[id]; ok {
		return
	}
	r.ids[id] = struct{}{}
	r.order = append(r.order, id)
	if len(r.order) > r.max {
		drop := len(r.order) - r.max
		for _, old := range r.order[:drop] {
			delete(r.ids, old)
		}
		r.order = slices.Clone(r.order[drop:])
	}
}

// seedRecent reads the ids of the latest events of each partition from
// bronze (the data files holding older offsets are pruned by their
// statistics), so that a restart keeps dropping copies.
func seedRecent(ctx context.Context, bronze *table) (*recentEvents, error) {
	r := newRecent(dedupeWindow * max(len(bronze.pos), 1))
	for part, next := range bronze.pos {
		rows, err := bronze.Scan(ctx, lakehouse.ScanOptions{Filter: lakehouse.And(
			lakehouse.EqInt32("partition", part), lakehouse.AtLeastInt64("offset", next-dedupeWindow))})
		if err != nil {
			return nil, fmt.Errorf("read the latest event ids of %s: %w", bronze.Name(), err)
		}
		slices.SortFunc(rows, func(a, b lakehouse.Row) int { return int(a[bOffset].(int64) - b[bOffset].(int64)) })
		for _, row := range rows {
			r.remember(row[bEventID].(string))
		}
	}
	return r, nil
}

// Bronze column positions.
const (
	bEventID = 0
	bOffset  = 7
)
