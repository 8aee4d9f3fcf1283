package f1_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/podiumhq/podium/internal/f1"
)

// clinch formats when a title was clinched: "max-verstappen 17 SPRINT".
func clinch(c *f1.Clinch) string {
	if c == nil {
		return "open"
	}
	return fmt.Sprintf("%s %d %s", c.ID, c.Round, c.Session)
}

// TestTitleMathsHistory checks the title maths against history, from the
// archive's results: when each title was clinched, and that it was open
// before (2021 and 2025 until the final round, 2023 until the Qatar
// sprint, 2024 until Las Vegas).
func TestTitleMathsHistory(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	tests := []struct {
		season        int
		driver, team  string // when clinched: id round session
		contenders    map[string]int
		neededAtRound int // round after which the leader's Needed is checked
		needed        float64
	}{
		// Verstappen and Hamilton level on 369.5 before Abu Dhabi: open
		// until the chequered flag of the final round.
		{season: 2021, driver: "max-verstappen 22 RACE", team: "mercedes 22 RACE",
			contenders: map[string]int{"21 RACE": 2, "22 RACE": 1}},
		// Qatar 2023 was round 17 (Imola was cancelled): Verstappen clinched
		// on the Saturday, in the sprint, Red Bull a round earlier at Suzuka.
		// After Suzuka he needed 4 points: Pérez's 223 + 180 still
		// available = 403, three more than his 400.
		{season: 2023, driver: "max-verstappen 17 SPRINT", team: "red-bull 16 RACE",
			contenders: map[string]int{"16 RACE": 2, "17 SPRINT": 1}, neededAtRound: 16, needed: 4},
		// Verstappen at Las Vegas (round 22), McLaren at the final round.
		{season: 2024, driver: "max-verstappen 22 RACE", team: "mclaren 24 RACE",
			contenders: map[string]int{"21 RACE": 2, "22 RACE": 1}},
		// Norris, Verstappen and Piastri all in it before Abu Dhabi (no
		// fastest-lap point in 2025: 25 still available); McLaren clinched
		// at Singapore.
		{season: 2025, driver: "lando-norris 24 RACE", team: "mclaren 18 RACE",
			contenders: map[string]int{"23 RACE": 3, "24 RACE": 1}, neededAtRound: 23, needed: 14},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.season), func(t *testing.T) {
			s, _ := a.Season(tt.season)
			steps, err := f1.TitleMaths(s.Calendar(), scored(t, a, tt.season), s.Penalties)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(s.Rounds); steps[len(steps)-1].Round != n {
				t.Fatalf("last step after round %d, want %d", steps[len(steps)-1].Round, n)
			}
			last := steps[len(steps)-1]
			if got := clinch(last.DriverTitle); got != tt.driver {
				t.Errorf("drivers' title clinched: %s, want %s", got, tt.driver)
			}
			if got := clinch(last.ConstructorTitle); got != tt.team {
				t.Errorf("constructors' title clinched: %s, want %s", got, tt.team)
			}
			for i, st := range steps {
				at := fmt.Sprintf("%d %s", st.Round, st.Session)
				// Open before the clinching session, clinched from it on,
				// and the champion alone in contention then.
				for _, c := range []struct {
					what  string
					title *f1.Clinch
					want  string
					cs    []f1.Contender
				}{{"drivers'", st.DriverTitle, tt.driver, st.Drivers}, {"constructors'", st.ConstructorTitle, tt.team, st.Constructors}} {
					clinchAt := -1
					for j, s := range steps {
						if strings.HasSuffix(c.want, fmt.Sprintf(" %d %s", s.Round, s.Session)) {
							clinchAt = j
						}
					}
					if clinchAt < 0 {
						t.Fatalf("no step %s", c.want)
					}
					in := 0
					for _, x := range c.cs {
						if x.InContention {
							in++
						}
						if x.MaxPoints != x.Points+map[bool]float64{true: st.DriverMaxLeft, false: st.ConstructorMaxLeft}[c.what == "drivers'"] {
							t.Errorf("after %s: %s max points %v of %v", at, x.ID, x.MaxPoints, x.Points)
						}
					}
					switch {
					case i < clinchAt && (c.title != nil || in < 2 || c.cs[0].Champion):
						t.Errorf("%s title after %s: %s with %d in contention, want open", c.what, at, clinch(c.title), in)
					case i >= clinchAt && (clinch(c.title) != c.want || in != 1 || !c.cs[0].Champion || *c.cs[0].Needed != 0):
						t.Errorf("%s title after %s: %s with %d in contention, want clinched %s", c.what, at, clinch(c.title), in, c.want)
					}
				}
				if want, ok := tt.contenders[at]; ok {
					in := 0
					for _, x := range st.Drivers {
						if x.InContention {
							in++
						}
					}
					if in != want {
						t.Errorf("after %s: %d drivers in contention, want %d: %+v", at, in, want, st.Drivers[:4])
					}
				}
				if tt.neededAtRound == st.Round && st.Session == f1.Race {
					if n := st.Drivers[0].Needed; n == nil || *n != tt.needed {
						t.Errorf("after round %d: the leader needs %v, want %v", st.Round, n, tt.needed)
					}
				}
			}
		})
	}
}

// TestTitleMathsRemaining checks what is still available after a session
// of 2023, a season with sprints and the fastest-lap point: after the Qatar
// sprint (round 17), the Qatar race and five more rounds, two of them
// sprint weekends.
func TestTitleMathsRemaining(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	s, _ := a.Season(2023)
	steps, err := f1.TitleMaths(s.Calendar(), scored(t, a, 2023), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range steps {
		if st.Round != 17 || st.Session != f1.Sprint {
			continue
		}
		// 6 races at 25 + 1, 2 sprints at 8; a constructor 6 × (25 + 18
		// + 1) and 2 × (8 + 7).
		if st.RacesLeft != 6 || st.SprintsLeft != 2 || !st.FastestLapPoint || st.DriverMaxLeft != 172 || st.ConstructorMaxLeft != 294 {
			t.Errorf("after the Qatar sprint: %d races, %d sprints, fastest lap %v, %v per driver, %v per constructor; "+
				"want 6, 2, true, 172, 294", st.RacesLeft, st.SprintsLeft, st.FastestLapPoint, st.DriverMaxLeft, st.ConstructorMaxLeft)
		}
		return
	}
	t.Fatal("no step after the Qatar sprint of 2023")
}

// TestTitleMathsCountback checks the ties the points alone cannot decide:
// two races left in a made-up 2025 (25 points a race, no fastest-lap
// point), B exactly 50 behind A (the points are set, not derived from the
// places), so that B can only draw level by winning both races while A
// scores nothing; countback then decides, over B's record with two more
// wins and A's as it stands.
func TestTitleMathsCountback(t *testing.T) {
	t.Parallel()
	cal := f1.Calendar{Season: 2025}
	for r := 1; r <= 4; r++ {
		cal.Rounds = append(cal.Rounds, f1.CalendarRound{Round: r})
	}
	res := func(round int, driver string, pos int, points float64) f1.ScoredResult {
		r := f1.ScoredResult{Result: f1.Result{Season: 2025, Round: round, Session: f1.Race, CarNumber: len(driver),
			DriverID: driver, TeamID: driver, Status: f1.DNF}, Points: points}
		if pos > 0 {
			r.Status, r.Position = f1.Finished, &pos
		}
		return r
	}
	tests := []struct {
		name   string
		a, b   [2]int // places in rounds 1 and 2, 0 for a retirement
		points float64
		open   bool
	}{
		// B: two wins and two seconds against A's two wins.
		{name: "B would win the countback", a: [2]int{1, 1}, b: [2]int{2, 2}, points: 50, open: true},
		// B: two wins against A's one.
		{name: "two wins beat one", a: [2]int{1, 2}, b: [2]int{3, 3}, points: 50, open: true},
		// Level on wins, seconds and thirds; B's two fourth places.
		{name: "down to fourth places", a: [2]int{1, 1}, b: [2]int{4, 4}, points: 50, open: true},
		// Places out of the points count too.
		{name: "eleventh places count", a: [2]int{1, 1}, b: [2]int{11, 11}, points: 50, open: true},
		// Level to the last place: the FIA would decide; not clinched.
		{name: "level to the last place", a: [2]int{1, 1}, b: [2]int{0, 0}, points: 50, open: true},
		// One point more than B can win.
		{name: "out of reach", a: [2]int{1, 1}, b: [2]int{0, 0}, points: 51, open: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := []f1.ScoredResult{res(1, "a", tt.a[0], tt.points), res(1, "bb", tt.b[0], 0),
				res(2, "a", tt.a[1], 0), res(2, "bb", tt.b[1], 0)}
			steps, err := f1.TitleMaths(cal, rs, nil)
			if err != nil {
				t.Fatal(err)
			}
			st := steps[len(steps)-1]
			if st.DriverMaxLeft != 50 || st.Drivers[0].ID != "a" {
				t.Fatalf("after round 2: %v still available, leader %s; want 50, a", st.DriverMaxLeft, st.Drivers[0].ID)
			}
			if open := st.DriverTitle == nil; open != tt.open || st.Drivers[1].InContention != tt.open {
				t.Errorf("title open %v, B in contention %v; want %v", open, st.Drivers[1].InContention, tt.open)
			}
		})
	}
}

// TestTitleMathsCountbackClinched is the tie B loses: one race left, A on
// three wins (75 points), B on three second places less a 4-point penalty
// (50): winning the last race, B draws level on points with one win
// against A's three.
func TestTitleMathsCountbackClinched(t *testing.T) {
	t.Parallel()
	cal := f1.Calendar{Season: 2025}
	for r := 1; r <= 4; r++ {
		cal.Rounds = append(cal.Rounds, f1.CalendarRound{Round: r})
	}
	var rs []f1.ScoredResult
	for r := 1; r <= 3; r++ {
		p1, p2 := 1, 2
		rs = append(rs,
			f1.ScoredResult{Result: f1.Result{Season: 2025, Round: r, Session: f1.Race, CarNumber: 1, DriverID: "a", TeamID: "x",
				Status: f1.Finished, Position: &p1}, Points: 25},
			f1.ScoredResult{Result: f1.Result{Season: 2025, Round: r, Session: f1.Race, CarNumber: 2, DriverID: "b", TeamID: "y",
				Status: f1.Finished, Position: &p2}, Points: 18})
	}
	penalty := f1.Penalty{ID: "p", Season: 2025, Kind: f1.PenaltyDriver, Target: "b", Points: -4, FromRound: 3}
	steps, err := f1.TitleMaths(cal, rs, []f1.Penalty{penalty})
	if err != nil {
		t.Fatal(err)
	}
	st := steps[len(steps)-1]
	if st.Drivers[0].Points != 75 || st.Drivers[1].Points != 50 || st.DriverMaxLeft != 25 {
		t.Fatalf("after round 3: %+v, %v still available; want A 75, B 50, 25", st.Drivers, st.DriverMaxLeft)
	}
	if clinch(st.DriverTitle) != "a 3 RACE" || st.Drivers[1].InContention {
		t.Errorf("A three wins to B's one at best, level on points: %s, B in contention %v; want clinched by a after round 3",
			clinch(st.DriverTitle), st.Drivers[1].InContention)
	}
	// Without the penalty B is 21 behind: open.
	steps, err = f1.TitleMaths(cal, rs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := steps[len(steps)-1]; st.DriverTitle != nil || !st.Drivers[1].InContention {
		t.Errorf("B 21 behind with 25 to win: %s, B in contention %v; want open", clinch(st.DriverTitle), st.Drivers[1].InContention)
	}
}

// TestTitleMathsNeedsACalendar: results of a round the calendar lacks are
// an error.
func TestTitleMathsNeedsACalendar(t *testing.T) {
	t.Parallel()
	p := 1
	_, err := f1.TitleMaths(f1.Calendar{Season: 2025, Rounds: []f1.CalendarRound{{Round: 1}}},
		[]f1.ScoredResult{{Result: f1.Result{Season: 2025, Round: 2, Session: f1.Race, CarNumber: 1, DriverID: "a", TeamID: "x",
			Status: f1.Finished, Position: &p}, Points: 25}}, nil)
	if err == nil {
		t.Fatal("results of round 2 with a calendar of one round: no error")
	}
}

// TestContentionNeedsACalendar: without the season's calendar there are
// no title maths, and the error says so.
func TestContentionNeedsACalendar(t *testing.T) {
	t.Parallel()
	for _, cal := range []f1.Calendar{{}, {Season: 2025, Rounds: []f1.CalendarRound{{Round: 1}}}} {
		if _, err := f1.Contention(context.Background(), nil, 2026, 0, cal); !errors.Is(err, f1.ErrNoCalendar) {
			t.Errorf("Contention of 2026 with the calendar %+v: %v, want ErrNoCalendar", cal, err)
		}
	}
}
