package lake

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/lakehouse"
)

// Silver column positions.
const (
	sID = iota
	sEmployee
	sStart
	sYear
	sMonth
	sSport
	sDistance
)

// applyGold recomputes the gold rows of every employee whose activities ds
// touch: the employees the activities belong to now (the current silver
// snapshot) and belonged to before (the silver snapshot the gold table was
// last computed from, by time travel). A batch that touches no employee —
// a delete of an activity silver never had (a quarantined one), a lone
// tombstone, a logical message — commits an empty snapshot that only moves
// the positions.
func (r *run) applyGold(ctx context.Context, t *table, ds []*decoded, props map[string]string) error {
	silver := r.tables[TableSilver]
	cur, ok := silver.Current()
	if !ok {
		return fmt.Errorf("gold: the silver table has no snapshot")
	}
	props[PropSilverSnapshot] = strconv.FormatInt(cur.ID, 10)
	fin, truncated := final(ds)
	base, hasBase := t.LastProperty(PropSilverSnapshot)
	baseID, _ := strconv.ParseInt(base, 10, 64)
	if truncated || !hasBase || baseID == 0 || !hasSnapshot(silver.Table, baseID) {
		// Recompute everything: after a truncate, on the first batch, or when
		// the base snapshot was expired.
		rows, err := r.allGoldRows(ctx, silver.Table)
		if err != nil {
			return err
		}
		return t.Overwrite(ctx, lakehouse.All(), rows, props)
	}
	ids := slices.Sorted(maps.Keys(fin))
	emps := map[string]bool{}
	for _, a := range fin {
		if a != nil {
			emps[a.EmployeeID] = true
		}
	}
	if len(ids) > 0 {
		for _, snap := range []int64{baseID, cur.ID} {
			rows, err := silver.Scan(ctx, lakehouse.ScanOptions{SnapshotID: snap, Filter: lakehouse.InInt64("id", ids...)})
			if err != nil {
				return fmt.Errorf("gold: %w", err)
			}
			for _, row := range rows {
				emps[row[sEmployee].(string)] = true
			}
		}
	}
	if len(emps) == 0 {
		return t.Append(ctx, nil, props)
	}
	touched := slices.Sorted(maps.Keys(emps))
	acts, err := silver.Scan(ctx, lakehouse.ScanOptions{Filter: lakehouse.InString("employee_id", touched...)})
	if err != nil {
		return fmt.Errorf("gold: %w", err)
	}
	rows, err := r.goldRows(ctx, acts)
	if err != nil {
		return err
	}
	return t.Overwrite(ctx, lakehouse.InString("employee_id", touched...), rows, props)
}

func hasSnapshot(t *lakehouse.Table, id int64) bool {
	for _, s := range t.History() {
		if s.ID == id {
			return true
		}
	}
	return false
}

// allGoldRows computes the gold rows of every employee of the current
// silver snapshot.
func (r *run) allGoldRows(ctx context.Context, silver *lakehouse.Table) ([]lakehouse.Row, error) {
	acts, err := silver.Scan(ctx, lakehouse.ScanOptions{})
	if err != nil {
		return nil, fmt.Errorf("gold: %w", err)
	}
	return r.goldRows(ctx, acts)
}

// goldRows computes the gold rows of the employees of the silver rows acts,
// which hold all the activities of each of them, with the rewards
// definition the SQL gold table uses (rewards.Policy.GoldOf) and the
// store's HR register and commutes.
func (r *run) goldRows(ctx context.Context, acts []lakehouse.Row) ([]lakehouse.Row, error) {
	golds, err := Gold(ctx, r.env.Store.DB(), r.cfg.Policy, acts, r.cfg.Now())
	if err != nil {
		return nil, err
	}
	rows := make([]lakehouse.Row, len(golds))
	for i, g := range golds {
		rows[i] = goldRow(g)
	}
	return rows, nil
}

// goldRow is g as a row of TableGold (GoldColumns).
func goldRow(g rewards.Gold) lakehouse.Row {
	var km any
	if g.CommuteKm != nil {
		km = *g.CommuteKm
	}
	return lakehouse.Row{g.EmployeeID, g.Year, g.BusinessUnit, g.Activities, g.Meters, g.DistanceKm(), g.Sports,
		g.CommuteMode, km, g.BonusEligible, int64(g.Bonus), g.DeclarationFlag, g.WellnessDays}
}

// Gold computes the gold rows, sorted by employee and year, of the
// employees of silver rows (all the activities of each of them), with the
// rewards policy and the HR register and commutes read through q.
func Gold(ctx context.Context, q rewards.Querier, policy rewards.Policy, silver []lakehouse.Row, now time.Time) ([]rewards.Gold, error) {
	acts := make([]rewards.Activity, len(silver))
	for i, row := range silver {
		acts[i] = rewards.Activity{EmployeeID: row[sEmployee].(string), Start: row[sStart].(time.Time),
			Sport: row[sSport].(string), DistanceM: row[sDistance].(float64)}
	}
	return policy.GoldOf(ctx, q, acts, now)
}

// ensureGold opens the gold table. A gold table of an older schema (before
// exact units: distance_km and bonus_eur as doubles) is dropped and
// computed again from the current silver snapshot, with silver's
// positions: gold is a function of silver and the store, so nothing is
// read from the topic again.
func (r *run) ensureGold(ctx context.Context) (*table, error) {
	t, err := r.lake.EnsureTable(ctx, TableGold, tableColumns[TableGold], nil)
	if err == nil {
		return &table{Table: t}, nil
	}
	if !errors.Is(err, lakehouse.ErrSchema) {
		return nil, err
	}
	r.log.Warn("the gold table has an older schema; computing it again from silver", "table", TableGold, "reason", err)
	if err := r.lake.DropTable(ctx, TableGold); err != nil {
		return nil, err
	}
	if t, err = r.lake.EnsureTable(ctx, TableGold, tableColumns[TableGold], nil); err != nil {
		return nil, err
	}
	gold := &table{Table: t}
	silver := r.tables[TableSilver]
	cur, ok := silver.Current()
	if !ok {
		return gold, nil // silver is empty too: both start from the topic's beginning
	}
	rows, err := r.allGoldRows(ctx, silver.Table)
	if err != nil {
		return nil, err
	}
	props := map[string]string{PropPositions: silver.pos.String(), PropTopic: r.cfg.Topic, PropEvents: "0",
		PropSilverSnapshot: strconv.FormatInt(cur.ID, 10)}
	if err := gold.Overwrite(ctx, lakehouse.All(), rows, props); err != nil {
		return nil, err
	}
	gold.pos = silver.pos
	return gold, nil
}
