package rewards

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/activities/hr"
)

// SportYear is what an employee did of one sport in one year: the figures
// a gold row is computed from (see Count).
type SportYear struct {
	Sport      string
	Activities int
	Meters     int64
}

// Employee is what the gold figures need of an employee beyond the
// activities: the business unit and the commute, from the HR register and
// the commute distances.
type Employee struct {
	BusinessUnit string // "" when not in the HR register
	Commute      Commute
}

// Gold is one row of the gold table: an employee's year under the policy.
type Gold struct {
	EmployeeID   string
	Year         int
	BusinessUnit string
	Activities   int
	// Meters is the year's distance in whole metres (see Meters).
	Meters          int64
	Sports          string // sorted, comma-separated
	CommuteMode     string // "" when unknown
	CommuteKm       *float64
	BonusEligible   bool
	Bonus           Cents
	DeclarationFlag string
	WellnessDays    int
}

// DistanceKm is Meters in kilometres (the distance_km columns).
func (g Gold) DistanceKm() float64 { return Km(g.Meters) }

// Gold computes the gold row of an employee's year from the activities of
// the year per sport (at least one), the employee's record and the number
// of activities that count for the wellness days (see WellnessCount): the
// one computation of activities_gold and of the lakehouse's gold table.
func (p Policy) Gold(employeeID string, year int, sports []SportYear, e Employee, wellnessCount int) Gold {
	sorted := append([]SportYear(nil), sports...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Sport < sorted[j].Sport })
	g := Gold{EmployeeID: employeeID, Year: year, BusinessUnit: e.BusinessUnit, CommuteMode: string(e.Commute.Mode)}
	names := make([]string, 0, len(sorted))
	for _, s := range sorted {
		g.Activities += s.Activities
		g.Meters += s.Meters
		names = append(names, s.Sport)
	}
	g.Sports = strings.Join(names, ",")
	if e.Commute.Km != nil {
		km := *e.Commute.Km
		g.CommuteKm = &km
	}
	b := p.Bonus(e.Commute)
	g.BonusEligible, g.Bonus, g.DeclarationFlag = b.Eligible, b.Amount, b.Flag
	g.WellnessDays = p.Wellness(wellnessCount)
	return g
}

// Activity is what the gold rows need of an activity.
type Activity struct {
	EmployeeID string
	Start      time.Time
	Sport      string
	DistanceM  float64
}

// GoldOf computes the gold rows, sorted by employee and year, of the
// employees of acts, which must hold every activity of each of them, with
// the HR register and the commutes read through q: what activities_gold
// holds for them, recomputed from the activities rather than kept by
// deltas (the lakehouse recomputes its gold table this way).
func (p Policy) GoldOf(ctx context.Context, q Querier, acts []Activity, now time.Time) ([]Gold, error) {
	type year struct {
		employee string
		year     int
	}
	tally := Tally{}
	starts := map[string][]time.Time{}
	for _, a := range acts {
		k, m := p.Count(a.EmployeeID, a.Start, a.Sport, a.DistanceM)
		tally.Add(k, 1, m)
		starts[a.EmployeeID] = append(starts[a.EmployeeID], a.Start)
	}
	years := map[year][]SportYear{}
	for k, s := range tally {
		years[year{k.Employee, k.Year}] = append(years[year{k.Employee, k.Year}], s)
	}
	emps := make([]string, 0, len(starts))
	for e := range starts {
		emps = append(emps, e)
	}
	sort.Strings(emps)
	records, err := Employees(ctx, q, emps)
	if err != nil {
		return nil, fmt.Errorf("gold: %w", err)
	}
	out := make([]Gold, 0, len(years))
	for k, sports := range years {
		n := 0
		for _, s := range sports {
			n += s.Activities
		}
		out = append(out, p.Gold(k.employee, k.year, sports, records[k.employee], p.WellnessCount(k.year, n, starts[k.employee], now)))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].EmployeeID != out[j].EmployeeID {
			return out[i].EmployeeID < out[j].EmployeeID
		}
		return out[i].Year < out[j].Year
	})
	return out, nil
}

// WellnessCount returns the number of activities that count for the
// wellness days of an employee's year, given the year's activity count and
// the start times of all the employee's activities: the year's count, or,
// under a rolling-year policy and for the current year, the activities that
// started in the twelve months up to now (as activities_gold counts them).
func (p Policy) WellnessCount(year, activities int, starts []time.Time, now time.Time) int {
	from, to, rolling := p.RollingWindow(year, now)
	if !rolling {
		return activities
	}
	n := 0
	for _, s := range starts {
		if s.After(from) && !s.After(to) {
			n++
		}
	}
	return n
}

// RollingWindow returns the period (from, to] whose activities count for
// the wellness days of year as of now: under a rolling-year policy and for
// the current year, the twelve months up to now (rolling is true); else
// rolling is false and the year's own activities count.
func (p Policy) RollingWindow(year int, now time.Time) (from, to time.Time, rolling bool) {
	if !p.RollingYear || year != now.In(p.Location).Year() {
		return time.Time{}, time.Time{}, false
	}
	return now.AddDate(-1, 0, 0), now, true
}

// Employees reads the business unit and commute of the given employees from
// the HR register (hr_employees) and the commute distances. Employees not in
// the register are missing from the result (their Commute is the zero
// value: not Known).
func Employees(ctx context.Context, q Querier, ids []string) (map[string]Employee, error) {
	out := make(map[string]Employee, len(ids))
	err := chunked(ids, func(part []any) error {
		rows, err := q.QueryContext(ctx, `SELECT e.employee_id, e.business_unit, e.commute_mode, e.gross_salary,
			d.meters, d.needs_review, d.review_reason
			FROM hr_employees e LEFT JOIN commute_distances d ON d.employee_id = e.employee_id
			WHERE e.employee_id IN (`+placeholders(1, len(part))+`)`, part...)
		if err != nil {
			return fmt.Errorf("read the HR register and commutes: %w", err)
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var id, bu, mode string
			var salary float64
			var meters sql.NullFloat64
			var review sql.NullBool
			var reason sql.NullString
			if err := rows.Scan(&id, &bu, &mode, &salary, &meters, &review, &reason); err != nil {
				return fmt.Errorf("read the HR register and commutes: %w", err)
			}
			c := Commute{Known: true, Mode: hr.CommuteMode(mode), GrossSalary: salary,
				NeedsReview: review.Bool, Reason: reason.String}
			if !review.Valid {
				c.Reason = "not computed yet"
			}
			if meters.Valid {
				km := meters.Float64 / 1000
				c.Km = &km
			}
			out[id] = Employee{BusinessUnit: bu, Commute: c}
		}
		return rows.Err()
	})
	return out, err
}
