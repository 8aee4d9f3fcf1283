package lake

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/lakehouse"
)

// The tables of the sink, in the catalog's namespace "activities".
const (
	// TableBronze holds every change event read, as read: one row per
	// message, appended.
	TableBronze = "activities.bronze_changes"
	// TableSilver holds the current row of every activity: updates and
	// deletes applied (copy-on-write overwrite).
	TableSilver = "activities.silver_activities"
	// TableGold holds, per employee and year with at least one activity,
	// the figures of the rewards policy.
	TableGold = "activities.gold_employee_year"
)

// Tables lists the sink's tables in the order each batch is committed to
// them.
var Tables = []string{TableBronze, TableSilver, TableGold}

// The snapshot summary properties the sink writes on every commit.
const (
	// PropPositions is the next offset to read per partition of the topic,
	// once the commit's batch is applied: JSON {"partition": offset}. A
	// restart reads the topic from the smallest across the tables.
	PropPositions = "podium.positions"
	// PropTopic is the topic the positions are on.
	PropTopic = "podium.topic"
	// PropEvents is the number of events the commit applied.
	PropEvents = "podium.events"
	// PropSilverSnapshot, on gold commits, is the silver snapshot the gold
	// rows were computed from.
	PropSilverSnapshot = "podium.silver-snapshot"
	// PropRulesVersion is the version of the rules (rewards policy and
	// quality rule pack) the sink ran with: Config.RulesVersion, on every
	// commit that sets it. Payroll exports read it from the gold snapshot.
	PropRulesVersion = "podium.rules-version"
)

// BronzeColumns are the columns of TableBronze.
var BronzeColumns = []lakehouse.Column{
	{Name: "event_id", Type: lakehouse.String, Required: true, Doc: "the event's id: the bus message id, else derived from the source position"},
	{Name: "op", Type: lakehouse.String, Required: true, Doc: "c, u, d, r, t or m; empty for tombstones and events that could not be decoded"},
	{Name: "activity_id", Type: lakehouse.Int64, Doc: "the changed row's id; null for truncate and message events"},
	{Name: "ts_ms", Type: lakehouse.Int64, Required: true, Doc: "when the capture processed the event (Unix ms)"},
	{Name: "source_ts", Type: lakehouse.Timestamp, Doc: "when the change was committed at the source"},
	{Name: "topic", Type: lakehouse.String, Required: true},
	{Name: "partition", Type: lakehouse.Int32, Required: true},
	{Name: "offset", Type: lakehouse.Int64, Required: true},
	{Name: "key", Type: lakehouse.String, Required: true},
	{Name: "published_at", Type: lakehouse.Timestamp, Doc: "when the bus stored the message"},
	{Name: "source", Type: lakehouse.String, Doc: "the source block, JSON"},
	{Name: "before", Type: lakehouse.String, Doc: "the row before the change, JSON"},
	{Name: "after", Type: lakehouse.String, Doc: "the row after the change, JSON"},
	{Name: "value", Type: lakehouse.Binary, Doc: "the message value as read"},
	{Name: "decode_error", Type: lakehouse.String, Required: true, Doc: "why the event could not be decoded; empty when it was"},
}

// SilverColumns are the columns of TableSilver: those of the store's
// activities_current.
var SilverColumns = []lakehouse.Column{
	{Name: "id", Type: lakehouse.Int64, Required: true},
	{Name: "employee_id", Type: lakehouse.String, Required: true},
	{Name: "start_time", Type: lakehouse.Timestamp, Required: true},
	{Name: "local_year", Type: lakehouse.Int32, Required: true, Doc: "year of start_time in the company's time zone"},
	{Name: "local_month", Type: lakehouse.Int32, Required: true, Doc: "1..12, same time zone"},
	{Name: "sport_type", Type: lakehouse.String, Required: true},
	{Name: "distance_m", Type: lakehouse.Float64, Required: true},
	{Name: "elapsed_s", Type: lakehouse.Int32, Required: true},
	{Name: "source", Type: lakehouse.String, Required: true},
	{Name: "updated_at", Type: lakehouse.Timestamp, Required: true},
}

// GoldColumns are the columns of TableGold: those of the store's
// activities_gold, without updated_at (each snapshot has its time) and
// bonus_cents (bonus_eur is an exact decimal here).
var GoldColumns = []lakehouse.Column{
	{Name: "employee_id", Type: lakehouse.String, Required: true},
	{Name: "year", Type: lakehouse.Int32, Required: true},
	{Name: "business_unit", Type: lakehouse.String, Required: true, Doc: "'' when the employee is not in the HR register"},
	{Name: "activities", Type: lakehouse.Int32, Required: true},
	{Name: "distance_m", Type: lakehouse.Int64, Required: true, Doc: "the year's distance in whole metres: each activity's rounded halves to even, summed"},
	{Name: "distance_km", Type: lakehouse.Float64, Required: true, Doc: "distance_m / 1000"},
	{Name: "sports", Type: lakehouse.String, Required: true, Doc: "sports practised that year, sorted, comma-separated"},
	{Name: "commute_mode", Type: lakehouse.String, Required: true, Doc: "'' when unknown"},
	{Name: "commute_km", Type: lakehouse.Float64, Doc: "measured home-to-office distance; null when unknown"},
	{Name: "bonus_eligible", Type: lakehouse.Bool, Required: true},
	{Name: "bonus_eur", Type: lakehouse.Decimal12x2, Required: true, Doc: "the sports bonus in euros, exact"},
	{Name: "declaration_flag", Type: lakehouse.String, Required: true, Doc: "why HR must check the declaration; '' when fine"},
	{Name: "wellness_days", Type: lakehouse.Int32, Required: true},
}

// tableColumns are the columns of each table.
var tableColumns = map[string][]lakehouse.Column{TableBronze: BronzeColumns, TableSilver: SilverColumns, TableGold: GoldColumns}

// Positions are the next offsets to read, per partition.
type Positions map[int32]int64

// ParsePositions decodes a PropPositions value.
func ParsePositions(s string) (Positions, error) {
	var raw map[string]int64
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("positions %q: %w", s, err)
	}
	p := make(Positions, len(raw))
	for k, v := range raw {
		n, err := strconv.ParseInt(k, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("positions %q: partition %q: %w", s, k, err)
		}
		p[int32(n)] = v
	}
	return p, nil
}

// String encodes p as a PropPositions value, partitions sorted.
func (p Positions) String() string {
	b, _ := json.Marshal(map[int32]int64(p)) // integer keys are sorted
	return string(b)
}

// Fresh returns the messages of msgs at or beyond p: those not applied yet.
func (p Positions) Fresh(msgs []*bus.Message) []*bus.Message {
	var out []*bus.Message
	for _, m := range msgs {
		if m.Offset >= p[m.Partition] {
			out = append(out, m)
		}
	}
	return out
}

// After returns p moved past msgs.
func (p Positions) After(msgs []*bus.Message) Positions {
	out := maps.Clone(p)
	if out == nil {
		out = Positions{}
	}
	for _, pos := range bus.LastPositions(msgs) {
		out[pos.Partition] = max(out[pos.Partition], pos.Offset+1)
	}
	return out
}

// Min returns, per partition any of ps knows, the smallest next offset; a
// partition missing from one of ps counts as 0 (read from the start).
func Min(ps ...Positions) Positions {
	parts := map[int32]bool{}
	for _, p := range ps {
		for k := range p {
			parts[k] = true
		}
	}
	out := Positions{}
	for _, k := range slices.Sorted(maps.Keys(parts)) {
		first := true
		for _, p := range ps {
			v := p[k]
			if first || v < out[k] {
				out[k] = v
				first = false
			}
		}
	}
	return out
}
