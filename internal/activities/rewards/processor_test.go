package rewards_test

import (
	"context"
	"database/sql"
	"log/slog"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/commute"
	"github.com/podiumhq/podium/internal/activities/generate"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

const year = 2025

// fixture is a running pipeline: the operational table in src, captured to
// the bus, and the rewards processor writing to dst, which holds the HR
// register and the commute distances.
type fixture struct {
	src, dst *store.Store
	bus      bus.Bus
	proc     stream.Runnable
}

// setup imports the sample register and its commutes into a store of
// dialect d, backfills a year of activities, and starts the change-data
// capture and the processor. On SQLite the operational table is in the
// same store; on PostgreSQL it is in a SQLite store of its own, because the
// capture of PostgreSQL needs wal_level=logical, which the cdc package tests
// (the events are the same).
func setup(t *testing.T, d store.Dialect, e enginetest.Engine) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{bus: enginetest.Open(t, e), dst: storetest.Open(t, d)}
	f.src = f.dst
	if d != store.SQLite {
		f.src = storetest.Open(t, store.SQLite)
	}
	if _, err := hr.ImportSample(ctx, f.dst); err != nil {
		t.Fatalf("import the sample register: %v", err)
	}
	if err := commute.Migrate(ctx, f.dst); err != nil {
		t.Fatal(err)
	}
	if _, err := commute.Check(ctx, f.dst.DB(), commute.Offline{}, commute.SampleOffice()); err != nil {
		t.Fatalf("commute check: %v", err)
	}
	if err := activities.Migrate(ctx, f.src); err != nil {
		t.Fatal(err)
	}
	reg, err := hr.Load(ctx, f.dst.DB())
	if err != nil {
		t.Fatal(err)
	}
	var emps []generate.Employee
	for _, e := range reg.Employees {
		emps = append(emps, generate.Employee{ID: e.ID, Sports: e.Sports})
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	acts, err := generate.Year(emps, generate.Config{Year: year, Seed: 7, Location: paris})
	if err != nil {
		t.Fatal(err)
	}
	// Around New Year, in UTC 31 December: the first two are in 2026 in
	// Paris (00:30 and 00:10 on 1 January), the third in 2025.
	edge := []struct {
		at    string
		sport string
	}{
		{"2025-12-31T23:30:00Z", "Run"},
		{"2025-12-31T23:10:00Z", "Ride"},
		{"2024-12-31T23:30:00Z", "Run"},
	}
	for i, x := range edge {
		at, err := time.Parse(time.RFC3339, x.at)
		if err != nil {
			t.Fatal(err)
		}
		acts = append(acts, activities.Activity{ID: generate.LiveIDBase + int64(i), EmployeeID: reg.Employees[0].ID,
			StartTime: at, SportType: x.sport, DistanceM: 5000, ElapsedS: 1800, Source: activities.SourceAPI})
	}
	if err := generate.Backfill(ctx, f.src, acts, nil); err != nil {
		t.Fatalf("backfill: %v", err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	capture, err := cdc.New(f.src, cdc.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.proc = rewards.Processor(rewards.DefaultPolicy(), nil)
	env := stream.Env{Bus: f.bus, Store: f.dst, MaxBatch: 700}
	done := make(chan struct{}, 2)
	go func() { cdc.Supervise(runCtx, capture, f.bus, slog.New(slog.DiscardHandler)); done <- struct{}{} }()
	// The capture publishes the raw change events; the quality processor
	// forwards the valid ones to the validated topic the rewards read.
	procs := []stream.Runnable{quality.Processor(quality.Config{}), f.proc}
	go func() { stream.Supervise(runCtx, env, procs); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return f
}

// row is an activity as both tables show it.
type row struct {
	employee, sport string
	start           time.Time
	meters          float64
}

func readActivities(t *testing.T, db *sql.DB, query string) map[int64]row {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	out := map[int64]row{}
	for rows.Next() {
		var id int64
		var r row
		if err := rows.Scan(&id, &r.employee, &r.sport, &r.start, &r.meters); err != nil {
			t.Fatal(err)
		}
		r.start = r.start.UTC()
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) source(t *testing.T) map[int64]row {
	return readActivities(t, f.src.DB(), `SELECT id, employee_id, sport_type, start_time, distance_m FROM sport_activities`)
}

func (f *fixture) silver(t *testing.T) map[int64]row {
	return readActivities(t, f.dst.DB(), `SELECT id, employee_id, sport_type, start_time, distance_m FROM activities_current`)
}

// settle waits until activities_current equals sport_activities and the
// processor has no lag.
func (f *fixture) settle(t *testing.T) {
	t.Helper()
	want := f.source(t)
	deadline := time.Now().Add(90 * time.Second)
	for {
		lags, err := stream.Lags(context.Background(), f.bus, f.dst.DB(), []stream.Spec{f.proc.Spec()})
		if err == nil && len(lags) == 1 && lags[0].Lag == 0 {
			if got := tryRead(f.dst.DB()); got != nil && same(got, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			got := tryRead(f.dst.DB())
			t.Fatalf("the processor did not catch up: %d rows in activities_current, %d in sport_activities (lags %+v, %v)",
				len(got), len(want), lags, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tryRead(db *sql.DB) map[int64]row {
	rows, err := db.Query(`SELECT id, employee_id, sport_type, start_time, distance_m FROM activities_current`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[int64]row{}
	for rows.Next() {
		var id int64
		var r row
		if err := rows.Scan(&id, &r.employee, &r.sport, &r.start, &r.meters); err != nil {
			return nil
		}
		r.start = r.start.UTC()
		out[id] = r
	}
	return out
}

func same(a, b map[int64]row) bool {
	if len(a) != len(b) {
		return false
	}
	for id, r := range a {
		if o, ok := b[id]; !ok || o.employee != r.employee || o.sport != r.sport || !o.start.Equal(r.start) || o.meters != r.meters {
			return false
		}
	}
	return true
}

// goldRow is the expected gold figures of an employee and year.
type goldRow struct {
	businessUnit string
	activities   int
	meters       int64   // whole metres, each activity rounded halves to even
	km           float64 // meters / 1000
	sports       string
	eligible     bool
	bonus        int64 // cents
	flagged      bool
	wellness     int
}

// expect computes, directly from sport_activities, the HR register and the
// commute distances, the gold rows of year and the report's figures,
// independently of the package's code.
func (f *fixture) expect(t *testing.T) (map[string]goldRow, rewards.Summary) {
	t.Helper()
	ctx := context.Background()
	reg, err := hr.Load(ctx, f.dst.DB())
	if err != nil {
		t.Fatal(err)
	}
	dists, err := commute.Distances(ctx, f.dst.DB())
	if err != nil {
		t.Fatal(err)
	}
	byEmp := map[string]commute.Distance{}
	for _, d := range dists {
		byEmp[d.EmployeeID] = d
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	gold := map[string]goldRow{}
	sports := map[string]map[string]bool{}
	s := rewards.Summary{Year: year, Monthly: make([]rewards.Month, 12)}
	sportStats := map[string]*rewards.Sport{}
	sportEmps := map[string]map[string]bool{}
	for i := range s.Monthly {
		s.Monthly[i].Month = i + 1
	}
	for _, a := range f.source(t) {
		local := a.start.In(paris)
		if local.Year() != year {
			continue
		}
		g := gold[a.employee]
		g.activities++
		g.meters += int64(math.RoundToEven(a.meters))
		gold[a.employee] = g
		if sports[a.employee] == nil {
			sports[a.employee] = map[string]bool{}
		}
		sports[a.employee][a.sport] = true
		m := &s.Monthly[local.Month()-1]
		m.Activities++
		m.DistanceKm += a.meters / 1000
		sp := sportStats[a.sport]
		if sp == nil {
			sp = &rewards.Sport{Sport: a.sport}
			sportStats[a.sport], sportEmps[a.sport] = sp, map[string]bool{}
		}
		sp.Activities++
		sp.DistanceKm += a.meters / 1000
		sportEmps[a.sport][a.employee] = true
	}
	units := map[string]*rewards.BusinessUnit{}
	for id, g := range gold {
		var names []string
		for sp := range sports[id] {
			names = append(names, sp)
		}
		sort.Strings(names)
		g.sports = strings.Join(names, ",")
		g.km = float64(g.meters) / 1000
		e, ok := reg.Employee(id)
		if !ok {
			g.flagged = true
		} else {
			g.businessUnit = e.BusinessUnit
			limit := map[hr.CommuteMode]float64{hr.Walking: 15, hr.Bike: 25}[e.CommuteMode]
			if limit > 0 {
				d, ok := byEmp[id]
				if ok && d.Meters != nil && !d.NeedsReview && *d.Meters <= limit*1000 {
					g.eligible = true
					g.bonus = int64(math.Round(e.GrossSalary * 0.05 * 100))
				} else {
					g.flagged = true
				}
			}
		}
		if g.activities >= 15 {
			g.wellness = 5
		}
		gold[id] = g
		u := units[g.businessUnit]
		if u == nil {
			u = &rewards.BusinessUnit{BusinessUnit: g.businessUnit}
			units[g.businessUnit] = u
		}
		u.Employees++
		u.Activities += g.activities
		u.WellnessDays += g.wellness
		s.Employees++
		s.Activities += g.activities
		s.DistanceKm += g.km
		s.WellnessDaysTotal += g.wellness
		if g.wellness > 0 {
			s.EmployeesWithWellness++
		}
		if g.flagged {
			s.FlaggedDeclarations++
		}
		if g.eligible {
			u.Eligible++
			u.BonusEUR += float64(g.bonus) / 100
			s.EligibleEmployees++
			s.BonusTotalEUR += float64(g.bonus) / 100
		}
	}
	for _, u := range units {
		s.ByBusinessUnit = append(s.ByBusinessUnit, *u)
	}
	sort.Slice(s.ByBusinessUnit, func(i, j int) bool { return s.ByBusinessUnit[i].BusinessUnit < s.ByBusinessUnit[j].BusinessUnit })
	for sp, x := range sportStats {
		x.Employees = len(sportEmps[sp])
		s.TopSports = append(s.TopSports, *x)
	}
	sort.Slice(s.TopSports, func(i, j int) bool {
		a, b := s.TopSports[i], s.TopSports[j]
		if a.Activities != b.Activities {
			return a.Activities > b.Activities
		}
		return a.Sport < b.Sport
	})
	return gold, s
}

// near compares money and distances within their rounding.
func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// check compares activities_gold and the report with the direct computation.
func (f *fixture) check(t *testing.T, stage string) rewards.Summary {
	t.Helper()
	wantGold, want := f.expect(t)
	rows, err := f.dst.DB().Query(`SELECT employee_id, business_unit, activities, distance_m, distance_km, sports,
		bonus_eligible, bonus_cents, declaration_flag, wellness_days FROM activities_gold WHERE year = $1`, year)
	if err != nil {
		t.Fatal(err)
	}
	gotGold := map[string]goldRow{}
	for rows.Next() {
		var id, flag string
		var g goldRow
		if err := rows.Scan(&id, &g.businessUnit, &g.activities, &g.meters, &g.km, &g.sports, &g.eligible, &g.bonus, &flag, &g.wellness); err != nil {
			t.Fatal(err)
		}
		g.flagged = flag != ""
		gotGold[id] = g
	}
	rows.Close()
	if len(gotGold) != len(wantGold) {
		t.Errorf("%s: %d gold rows for %d, want %d", stage, len(gotGold), year, len(wantGold))
	}
	for id, w := range wantGold {
		// Exact: whole metres and cents, distance_km their float64.
		if g := gotGold[id]; g != w {
			t.Errorf("%s: employee %s: gold %+v, want %+v", stage, id, g, w)
		}
	}

	got, err := rewards.Report(context.Background(), f.dst.DB(), year)
	if err != nil {
		t.Fatal(err)
	}
	ints := []struct {
		name      string
		got, want int
	}{
		{"employees", got.Employees, want.Employees},
		{"activities", got.Activities, want.Activities},
		{"eligible_employees", got.EligibleEmployees, want.EligibleEmployees},
		{"flagged_declarations", got.FlaggedDeclarations, want.FlaggedDeclarations},
		{"wellness_days_total", got.WellnessDaysTotal, want.WellnessDaysTotal},
		{"employees_with_wellness", got.EmployeesWithWellness, want.EmployeesWithWellness},
	}
	for _, c := range ints {
		if c.got != c.want {
			t.Errorf("%s: report %s = %d, want %d", stage, c.name, c.got, c.want)
		}
	}
	if !near(got.BonusTotalEUR, want.BonusTotalEUR, 0.005) {
		t.Errorf("%s: report bonus_total_eur = %.2f, want %.2f", stage, got.BonusTotalEUR, want.BonusTotalEUR)
	}
	if !near(got.DistanceKm, want.DistanceKm, 0.051) {
		t.Errorf("%s: report distance_km = %.1f, want %.3f", stage, got.DistanceKm, want.DistanceKm)
	}
	if len(got.ByBusinessUnit) != len(want.ByBusinessUnit) {
		t.Fatalf("%s: %d business units, want %d", stage, len(got.ByBusinessUnit), len(want.ByBusinessUnit))
	}
	for i, w := range want.ByBusinessUnit {
		g := got.ByBusinessUnit[i]
		if !near(g.BonusEUR, w.BonusEUR, 0.005) {
			t.Errorf("%s: business unit %q: bonus %.2f, want %.2f", stage, w.BusinessUnit, g.BonusEUR, w.BonusEUR)
		}
		g.BonusEUR = w.BonusEUR
		if g != w {
			t.Errorf("%s: business unit %+v, want %+v", stage, g, w)
		}
	}
	if len(got.TopSports) != len(want.TopSports) {
		t.Fatalf("%s: %d sports, want %d", stage, len(got.TopSports), len(want.TopSports))
	}
	for i, w := range want.TopSports {
		g := got.TopSports[i]
		if g.Sport != w.Sport || g.Activities != w.Activities || g.Employees != w.Employees || !near(g.DistanceKm, w.DistanceKm, 0.051) {
			t.Errorf("%s: sport %d: %+v, want %+v", stage, i, g, w)
		}
	}
	for i, w := range want.Monthly {
		g := got.Monthly[i]
		if g.Month != w.Month || g.Activities != w.Activities || !near(g.DistanceKm, w.DistanceKm, 0.051) {
			t.Errorf("%s: month %d: %+v, want %+v", stage, i+1, g, w)
		}
	}
	return got
}

// TestRewardsFollowTheActivities runs the pipeline from the operational
// table to the report on every store and bus, then updates and deletes
// activities and checks that silver, gold and the report follow.
func TestRewardsFollowTheActivities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
			f := setup(t, d, e)
			f.settle(t)
			before := f.check(t, "after the backfill")
			if before.EligibleEmployees == 0 || before.FlaggedDeclarations == 0 || before.EmployeesWithWellness == 0 {
				t.Fatalf("the sample does not exercise the policy: %+v", before)
			}
			// New Year in Paris: the activities of 31 December after 23:00
			// UTC belong to the next year.
			var n2026 int
			if err := f.dst.DB().QueryRow(`SELECT COUNT(*) FROM activities_current WHERE local_year = 2026`).Scan(&n2026); err != nil {
				t.Fatal(err)
			}
			if n2026 != 2 {
				t.Errorf("%d activities in 2026 (Paris time), want the 2 of New Year's Eve after midnight", n2026)
			}

			// Update one activity (sport, distance and month change) and
			// delete another of a different employee.
			ctx := context.Background()
			src := f.source(t)
			ids := make([]int64, 0, len(src))
			for id, r := range src {
				if r.start.Year() == year && r.start.Month() >= 3 && r.start.Month() <= 10 {
					ids = append(ids, id)
				}
			}
			sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
			upd := src[ids[0]]
			var del int64
			for _, id := range ids {
				if src[id].employee != upd.employee {
					del = id
					break
				}
			}
			if err := activities.Upsert(ctx, f.src.DB(), activities.Activity{ID: ids[0], EmployeeID: upd.employee,
				StartTime: upd.start.AddDate(0, 1, 0), SportType: "Rowing", DistanceM: upd.meters + 12345,
				ElapsedS: 3600, Source: activities.SourceAPI}); err != nil {
				t.Fatal(err)
			}
			if err := activities.Delete(ctx, f.src.DB(), del); err != nil {
				t.Fatal(err)
			}
			f.settle(t)
			silver := f.silver(t)
			if r, ok := silver[ids[0]]; !ok || r.sport != "Rowing" || r.meters != upd.meters+12345 {
				t.Errorf("updated activity in activities_current: %+v, %v", r, ok)
			}
			if _, ok := silver[del]; ok {
				t.Errorf("deleted activity %d is still in activities_current", del)
			}
			after := f.check(t, "after an update and a delete")
			if after.Activities != before.Activities-1 {
				t.Errorf("report activities %d after a delete, want %d", after.Activities, before.Activities-1)
			}
			if !near(after.DistanceKm, before.DistanceKm+12.345-src[del].meters/1000, 0.11) {
				t.Errorf("report distance %.1f km, want about %.1f", after.DistanceKm, before.DistanceKm+12.345-src[del].meters/1000)
			}
			var sports string
			if err := f.dst.DB().QueryRow(`SELECT sports FROM activities_gold WHERE employee_id = $1 AND year = $2`,
				upd.employee, year).Scan(&sports); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(sports, "Rowing") {
				t.Errorf("gold sports of employee %s = %q, want Rowing among them", upd.employee, sports)
			}
		})
	})
}
