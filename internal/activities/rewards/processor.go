package rewards

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/commute"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// Name is the processor's name: its consumer group, positions and
// migration component.
const Name = "activities-rewards"

// The tables the processor owns.
const (
	TableCurrent = "activities_current"
	TableGold    = "activities_gold"
	// TableSportYears holds the per-sport counts gold is computed from.
	TableSportYears = "activities_sport_years"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the schema of the processor's tables.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// Processor returns the rewards processor under policy. notify, if not nil,
// is called after each committed batch with the number of changes it held
// (for live pages); it must not block.
func Processor(policy Policy, notify func(changes int)) stream.Runnable {
	p := stream.Processor[cdc.Change]{
		Name:       Name,
		Topic:      activities.TopicValidated,
		Decode:     cdc.DecodeMessage,
		Migrations: Migrations(),
		Tables:     []string{TableCurrent, TableSportYears, TableGold},
		Handle: func(ctx context.Context, tx *sql.Tx, batch []stream.Record[cdc.Change]) error {
			return apply(ctx, tx, policy, batch)
		},
	}
	if notify != nil {
		p.AfterCommit = func(batch []stream.Record[cdc.Change]) { notify(len(batch)) }
	}
	return runnable{p, policy}
}

// runnable makes sure the tables the processor reads (the HR register and
// the commute distances) exist before it starts, so that activities
// arriving before the first HR import are not retried forever.
type runnable struct {
	stream.Processor[cdc.Change]
	policy Policy
}

// Run checks the policy, migrates the HR and commute tables, then runs the
// processor.
func (r runnable) Run(ctx context.Context, env stream.Env) error {
	if err := r.policy.Validate(); err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	if err := hr.Migrate(ctx, env.Store); err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	if err := commute.Migrate(ctx, env.Store); err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	return r.Processor.Run(ctx, env)
}

// key is an employee and a year.
type key struct {
	employee string
	year     int
}

// apply handles a batch of change events: the final state of each activity
// it touched goes to activities_current, then the gold rows of every
// employee and year that gained or lost an activity are recomputed.
func apply(ctx context.Context, tx *sql.Tx, policy Policy, batch []stream.Record[cdc.Change]) error {
	changes := make([]cdc.Change, len(batch))
	for i, r := range batch {
		changes[i] = r.Value
	}
	final, truncated := cdc.Final(changes) // nil: deleted
	touched := map[key]bool{}
	if truncated {
		// Every gold row goes; those of the activities re-created after
		// the truncate in this batch come back below.
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+TableCurrent); err != nil {
			return fmt.Errorf("truncate %s: %w", TableCurrent, err)
		}
		for _, t := range []string{TableSportYears, TableGold} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
				return fmt.Errorf("truncate %s: %w", t, err)
			}
		}
	}
	ids := make([]int64, 0, len(final))
	for id := range final {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	// What the activities counted for before the batch leaves the
	// per-sport counts; what they count for after it joins them.
	deltas := Tally{}
	if err := chunked(ids, func(part []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT employee_id, start_time, sport_type, distance_m FROM `+TableCurrent+`
			WHERE id IN (`+placeholders(1, len(part))+`)`, part...)
		if err != nil {
			return fmt.Errorf("read %s: %w", TableCurrent, err)
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var emp, sport string
			var start time.Time
			var meters float64
			if err := rows.Scan(&emp, &start, &sport, &meters); err != nil {
				return fmt.Errorf("read %s: %w", TableCurrent, err)
			}
			k, m := policy.Count(emp, start, sport, meters)
			touched[key{k.Employee, k.Year}] = true
			deltas.Add(k, -1, -m)
		}
		return rows.Err()
	}); err != nil {
		return err
	}
	var deleted []int64
	var upserts [][]any
	for _, id := range ids {
		a := final[id]
		if a == nil {
			deleted = append(deleted, id)
			continue
		}
		local := a.StartTime.In(policy.Location)
		k, m := policy.Count(a.EmployeeID, a.StartTime, a.SportType, a.DistanceM)
		touched[key{k.Employee, k.Year}] = true
		deltas.Add(k, 1, m)
		upserts = append(upserts, []any{a.ID, a.EmployeeID, a.StartTime.UTC(), local.Year(), int(local.Month()),
			a.SportType, a.DistanceM, a.ElapsedS, a.Source, a.UpdatedAt.UTC()})
	}
	if err := chunked(deleted, func(part []any) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+TableCurrent+` WHERE id IN (`+placeholders(1, len(part))+`)`, part...); err != nil {
			return fmt.Errorf("delete from %s: %w", TableCurrent, err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := store.InsertRows(ctx, tx, `INSERT INTO `+TableCurrent+` (id, employee_id, start_time, local_year,
		local_month, sport_type, distance_m, elapsed_s, source, updated_at)`, upserts,
		`ON CONFLICT (id) DO UPDATE SET employee_id = excluded.employee_id, start_time = excluded.start_time,
		local_year = excluded.local_year, local_month = excluded.local_month, sport_type = excluded.sport_type,
		distance_m = excluded.distance_m, elapsed_s = excluded.elapsed_s, source = excluded.source,
		updated_at = excluded.updated_at`); err != nil {
		return err
	}
	if err := applyDeltas(ctx, tx, deltas); err != nil {
		return err
	}
	if policy.RollingYear {
		// Last year's activities count in this year's rolling twelve months.
		this := time.Now().In(policy.Location).Year()
		for k := range touched {
			if k.year == this-1 {
				touched[key{k.employee, this}] = true
			}
		}
	}
	return recompute(ctx, tx, policy, touched)
}

// applyDeltas adds the deltas to activities_sport_years and deletes the
// rows left without activities.
func applyDeltas(ctx context.Context, tx *sql.Tx, deltas Tally) error {
	keys := make([]SportKey, 0, len(deltas))
	for k, d := range deltas {
		if d.Activities != 0 || d.Meters != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Employee != b.Employee {
			return a.Employee < b.Employee
		}
		if a.Year != b.Year {
			return a.Year < b.Year
		}
		return a.Sport < b.Sport
	})
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{k.Employee, k.Year, k.Sport, deltas[k].Activities, deltas[k].Meters}
	}
	if err := store.InsertRows(ctx, tx, `INSERT INTO `+TableSportYears+` (employee_id, year, sport_type, activities, distance_m)`,
		rows, `ON CONFLICT (employee_id, year, sport_type) DO UPDATE SET
		activities = `+TableSportYears+`.activities + excluded.activities,
		distance_m = `+TableSportYears+`.distance_m + excluded.distance_m`); err != nil {
		return err
	}
	for _, k := range keys {
		if deltas[k].Activities >= 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+TableSportYears+`
			WHERE employee_id = $1 AND year = $2 AND sport_type = $3 AND activities <= 0`, k.Employee, k.Year, k.Sport); err != nil {
			return fmt.Errorf("delete from %s: %w", TableSportYears, err)
		}
	}
	return nil
}

// recompute replaces the gold rows of the keys from activities_current, the
// HR register and the commute distances.
func recompute(ctx context.Context, tx *sql.Tx, policy Policy, keys map[key]bool) error {
	if len(keys) == 0 {
		return nil
	}
	empSet := map[string]bool{}
	for k := range keys {
		empSet[k.employee] = true
	}
	emps := make([]string, 0, len(empSet))
	for e := range empSet {
		emps = append(emps, e)
	}
	sort.Strings(emps)
	sports := map[key][]SportYear{}
	err := chunked(emps, func(part []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT employee_id, year, sport_type, activities, distance_m
			FROM `+TableSportYears+` WHERE employee_id IN (`+placeholders(1, len(part))+`)`, part...)
		if err != nil {
			return fmt.Errorf("read %s: %w", TableSportYears, err)
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var k key
			var sy SportYear
			if err := rows.Scan(&k.employee, &k.year, &sy.Sport, &sy.Activities, &sy.Meters); err != nil {
				return fmt.Errorf("read %s: %w", TableSportYears, err)
			}
			if keys[k] {
				sports[k] = append(sports[k], sy)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	employees, err := Employees(ctx, tx, emps)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	rolling, err := rollingCounts(ctx, tx, policy, keys, now)
	if err != nil {
		return err
	}
	sorted := make([]key, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].employee != sorted[j].employee {
			return sorted[i].employee < sorted[j].employee
		}
		return sorted[i].year < sorted[j].year
	})
	var gone []key
	var rows [][]any
	for _, k := range sorted {
		sy := sports[k]
		if len(sy) == 0 {
			gone = append(gone, k)
			continue
		}
		counted := 0
		for _, s := range sy {
			counted += s.Activities
		}
		if _, _, r := policy.RollingWindow(k.year, now); r {
			counted = rolling[k.employee]
		}
		g := policy.Gold(k.employee, k.year, sy, employees[k.employee], counted)
		var km any
		if g.CommuteKm != nil {
			km = *g.CommuteKm
		}
		rows = append(rows, []any{g.EmployeeID, g.Year, g.BusinessUnit, g.Activities, g.Meters, g.DistanceKm(), g.Sports,
			g.CommuteMode, km, g.BonusEligible, int64(g.Bonus), g.Bonus.EUR(), g.DeclarationFlag, g.WellnessDays, now})
	}
	for _, k := range gone {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+TableGold+` WHERE employee_id = $1 AND year = $2`, k.employee, k.year); err != nil {
			return fmt.Errorf("delete from %s: %w", TableGold, err)
		}
	}
	return store.InsertRows(ctx, tx, `INSERT INTO `+TableGold+` (employee_id, year, business_unit, activities,
		distance_m, distance_km, sports, commute_mode, commute_km, bonus_eligible, bonus_cents, bonus_eur,
		declaration_flag, wellness_days, updated_at)`, rows, `ON CONFLICT (employee_id, year) DO UPDATE SET
		business_unit = excluded.business_unit, activities = excluded.activities, distance_m = excluded.distance_m,
		distance_km = excluded.distance_km, sports = excluded.sports,
		commute_mode = excluded.commute_mode, commute_km = excluded.commute_km,
		bonus_eligible = excluded.bonus_eligible, bonus_cents = excluded.bonus_cents, bonus_eur = excluded.bonus_eur,
		declaration_flag = excluded.declaration_flag, wellness_days = excluded.wellness_days,
		updated_at = excluded.updated_at`)
}

// rollingCounts returns, under a rolling-year policy, the number of
// activities in the twelve months up to now of each employee with a key in
// the current year; nil under a calendar-year policy.
func rollingCounts(ctx context.Context, tx *sql.Tx, policy Policy, keys map[key]bool, now time.Time) (map[string]int, error) {
	from, to, rolling := policy.RollingWindow(now.In(policy.Location).Year(), now)
	if !rolling {
		return nil, nil
	}
	var emps []string
	for k := range keys {
		if _, _, r := policy.RollingWindow(k.year, now); r {
			emps = append(emps, k.employee)
		}
	}
	sort.Strings(emps)
	counts := map[string]int{}
	err := chunked(emps, func(part []any) error {
		args := append([]any{from, to}, part...)
		rows, err := tx.QueryContext(ctx, `SELECT employee_id, COUNT(*) FROM `+TableCurrent+`
			WHERE start_time > $1 AND start_time <= $2 AND employee_id IN (`+placeholders(3, len(part))+`)
			GROUP BY employee_id`, args...)
		if err != nil {
			return fmt.Errorf("count the rolling year in %s: %w", TableCurrent, err)
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var e string
			var n int
			if err := rows.Scan(&e, &n); err != nil {
				return fmt.Errorf("count the rolling year in %s: %w", TableCurrent, err)
			}
			counts[e] = n
		}
		return rows.Err()
	})
	return counts, err // an employee without activity in the window is missing: 0
}

// inChunk is the number of values in one IN list.
const inChunk = 400

// chunked calls fn with the values of vs, inChunk at a time.
func chunked[T any](vs []T, fn func(part []any) error) error {
	for start := 0; start < len(vs); start += inChunk {
		end := min(start+inChunk, len(vs))
		part := make([]any, 0, end-start)
		for _, v := range vs[start:end] {
			part = append(part, v)
		}
		if err := fn(part); err != nil {
			return err
		}
	}
	return nil
}

// placeholders returns "$from, …, $(from+n-1)".
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i))
	}
	return b.String()
}
