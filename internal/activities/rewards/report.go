package rewards

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
)

// Querier is what Report reads through: a *sql.DB, *sql.Tx or *sql.Conn.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Summary is the rewards report of a year: aggregates only, no figure of a
// single employee. JSON keys are English whatever the UI language.
type Summary struct {
	Year                  int            `json:"year"`
	Employees             int            `json:"employees"` // employees with at least one activity
	Activities            int            `json:"activities"`
	DistanceKm            float64        `json:"distance_km"`
	BonusTotalEUR         float64        `json:"bonus_total_eur"`
	EligibleEmployees     int            `json:"eligible_employees"`
	FlaggedDeclarations   int            `json:"flagged_declarations"`
	WellnessDaysTotal     int            `json:"wellness_days_total"`
	EmployeesWithWellness int            `json:"employees_with_wellness"`
	ByBusinessUnit        []BusinessUnit `json:"by_business_unit"`
	TopSports             []Sport        `json:"top_sports"`
	Monthly               []Month        `json:"monthly"`
}

// BusinessUnit is a business unit's share of a year.
type BusinessUnit struct {
	BusinessUnit string  `json:"business_unit"`
	Employees    int     `json:"employees"`
	Eligible     int     `json:"eligible"`
	BonusEUR     float64 `json:"bonus_eur"`
	WellnessDays int     `json:"wellness_days"`
	Activities   int     `json:"activities"`
}

// Sport is a sport's share of a year.
type Sport struct {
	Sport      string  `json:"sport"`
	Activities int     `json:"activities"`
	Employees  int     `json:"employees"`
	DistanceKm float64 `json:"distance_km"`
}

// Month is a month of a year, in the policy's time zone.
type Month struct {
	Month      int     `json:"month"` // 1..12
	Activities int     `json:"activities"`
	DistanceKm float64 `json:"distance_km"`
}

// Report summarises year from activities_gold and activities_current.
// Monthly always has the twelve months; TopSports is sorted by activities.
func Report(ctx context.Context, db Querier, year int) (Summary, error) {
	s := Summary{Year: year, ByBusinessUnit: []BusinessUnit{}, TopSports: []Sport{}}
	rows, err := db.QueryContext(ctx, `SELECT business_unit, activities, distance_m, bonus_eligible, bonus_cents,
		declaration_flag, wellness_days FROM `+TableGold+` WHERE year = $1`, year)
	if err != nil {
		return s, fmt.Errorf("rewards report %d: read %s (has the processor run?): %w", year, TableGold, err)
	}
	// Sums in exact units (metres, cents), converted once at the end.
	units := map[string]*BusinessUnit{}
	unitCents := map[string]Cents{}
	var meters int64
	var cents Cents
	for rows.Next() {
		var bu, flag string
		var n, wellness int
		var m, bonus int64
		var eligible bool
		if err := rows.Scan(&bu, &n, &m, &eligible, &bonus, &flag, &wellness); err != nil {
			_ = rows.Close()
			return s, fmt.Errorf("rewards report %d: read %s: %w", year, TableGold, err)
		}
		u := units[bu]
		if u == nil {
			u = &BusinessUnit{BusinessUnit: bu}
			units[bu] = u
		}
		s.Employees++
		u.Employees++
		s.Activities += n
		u.Activities += n
		meters += m
		if eligible {
			s.EligibleEmployees++
			u.Eligible++
			cents += Cents(bonus)
			unitCents[bu] += Cents(bonus)
		}
		if flag != "" {
			s.FlaggedDeclarations++
		}
		if wellness > 0 {
			s.EmployeesWithWellness++
			s.WellnessDaysTotal += wellness
			u.WellnessDays += wellness
		}
	}
	if err := rows.Close(); err != nil {
		return s, err
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("rewards report %d: read %s: %w", year, TableGold, err)
	}
	for bu, u := range units {
		u.BonusEUR = unitCents[bu].EUR()
		s.ByBusinessUnit = append(s.ByBusinessUnit, *u)
	}
	sort.Slice(s.ByBusinessUnit, func(i, j int) bool { return s.ByBusinessUnit[i].BusinessUnit < s.ByBusinessUnit[j].BusinessUnit })
	s.BonusTotalEUR = cents.EUR()
	s.DistanceKm = round1(Km(meters))

	rows, err = db.QueryContext(ctx, `SELECT sport_type, COUNT(*), COUNT(DISTINCT employee_id), SUM(distance_m)
		FROM `+TableCurrent+` WHERE local_year = $1 GROUP BY sport_type`, year)
	if err != nil {
		return s, fmt.Errorf("rewards report %d: sports: %w", year, err)
	}
	for rows.Next() {
		var sp Sport
		var m float64
		if err := rows.Scan(&sp.Sport, &sp.Activities, &sp.Employees, &m); err != nil {
			_ = rows.Close()
			return s, fmt.Errorf("rewards report %d: sports: %w", year, err)
		}
		sp.DistanceKm = round1(m / 1000)
		s.TopSports = append(s.TopSports, sp)
	}
	if err := rows.Close(); err != nil {
		return s, err
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("rewards report %d: sports: %w", year, err)
	}
	sort.Slice(s.TopSports, func(i, j int) bool {
		a, b := s.TopSports[i], s.TopSports[j]
		if a.Activities != b.Activities {
			return a.Activities > b.Activities
		}
		return a.Sport < b.Sport
	})

	s.Monthly = make([]Month, 12)
	for i := range s.Monthly {
		s.Monthly[i].Month = i + 1
	}
	rows, err = db.QueryContext(ctx, `SELECT local_month, COUNT(*), SUM(distance_m)
		FROM `+TableCurrent+` WHERE local_year = $1 GROUP BY local_month`, year)
	if err != nil {
		return s, fmt.Errorf("rewards report %d: months: %w", year, err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var month, n int
		var m float64
		if err := rows.Scan(&month, &n, &m); err != nil {
			return s, fmt.Errorf("rewards report %d: months: %w", year, err)
		}
		if month >= 1 && month <= 12 {
			s.Monthly[month-1].Activities = n
			s.Monthly[month-1].DistanceKm = round1(m / 1000)
		}
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("rewards report %d: months: %w", year, err)
	}
	return s, nil
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
