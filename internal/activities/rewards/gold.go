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

// SportYear is what an employee did of one sport in one year.
type SportYear struct {
	Sport      string
	Activities int
	Meters     float64
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
	EmployeeID      string
	Year            int
	BusinessUnit    string
	Activities      int
	DistanceKm      float64
	Sports          string // sorted, comma-separated
	CommuteMode     string // "" when unknown
	CommuteKm       *float64
	BonusEligible   bool
	BonusEUR        float64
	DeclarationFlag string
	WellnessDays    int
}

// Gold computes the gold row of an employee's year from the activities of
// the year per sport (at least one), the employee's record and the number
// of activities that count for the wellness days (see WellnessCount): the
// one computation of activities_gold and of the lakehouse's gold table.
func (p Policy) Gold(employeeID string, year int, sports []SportYear, e Employee, wellnessCount int) Gold {
	sorted := append([]SportYear(nil), sports...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Sport < sorted[j].Sport })
	g := Gold{EmployeeID: employeeID, Year: year, BusinessUnit: e.BusinessUnit, CommuteMode: string(e.Commute.Mode)}
	names := make([]string, 0, len(sorted))
	var meters float64
	for _, s := range sorted {
		g.Activities += s.Activities
		meters += s.Meters
		names = append(names, s.Sport)
	}
	g.DistanceKm = meters / 1000
	g.Sports = strings.Join(names, ",")
	if e.Commute.Km != nil {
		km := *e.Commute.Km
		g.CommuteKm = &km
	}
	b := p.Bonus(e.Commute)
	g.BonusEligible, g.BonusEUR, g.DeclarationFlag = b.Eligible, b.EUR, b.Flag
	g.WellnessDays = p.Wellness(wellnessCount)
	return g
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
