package f1_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/f1test"
)

// scored returns the season's results scored by the rules.
func scored(t testing.TB, a *archive.Archive, season int) []f1.ScoredResult {
	t.Helper()
	s, ok := a.Season(season)
	if !ok {
		t.Fatalf("no season %d in the archive", season)
	}
	sc := rules(t, season)
	var out []f1.ScoredResult
	for _, r := range s.Results(1, len(s.Rounds)) {
		out = append(out, f1.ScoredResult{Result: r, Points: f1.Points(r, sc)})
	}
	return out
}

// finals computes the final tables of a season with the package's rules
// and Standings.
func finals(t testing.TB, a *archive.Archive, season int) (drivers, teams []entry) {
	t.Helper()
	s, _ := a.Season(season)
	ds, cs := f1.Standings(season, scored(t, a, season), s.Penalties)
	last := len(s.Rounds)
	for _, d := range ds {
		if d.Round == last {
			drivers = append(drivers, entry{d.Position, d.DriverID, d.Points})
		}
	}
	for _, c := range cs {
		if c.Round == last {
			teams = append(teams, entry{c.Position, c.TeamID, c.Points})
		}
	}
	return drivers, teams
}

type entry struct {
	pos    int
	id     string
	points float64
}

func (e entry) String() string { return fmt.Sprintf("%d. %s %g", e.pos, e.id, e.points) }

// official returns a season's official final tables, derived
// independently of the package's scoring and ranking code (see f1test).
func official(t testing.TB, a *archive.Archive, season int) (drivers, teams []entry) {
	t.Helper()
	ds, cs, err := f1test.Official(a, season)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		drivers = append(drivers, entry{d.Position, d.ID, d.Points})
	}
	for _, c := range cs {
		teams = append(teams, entry{c.Position, c.ID, c.Points})
	}
	return drivers, teams
}

// TestFinalChampionships checks that the championships computed from the
// rules equal the official final tables of every season, every position.
func TestFinalChampionships(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	if got := a.Seasons(); fmt.Sprint(got) != "[2019 2020 2021 2022 2023 2024 2025]" {
		t.Fatalf("archive seasons %v, want 2019 to 2025", got)
	}
	for _, season := range a.Seasons() {
		t.Run(fmt.Sprint(season), func(t *testing.T) {
			t.Parallel()
			gotD, gotC := finals(t, a, season)
			wantD, wantC := official(t, a, season)
			compareTables(t, "drivers", gotD, wantD)
			compareTables(t, "constructors", gotC, wantC)
		})
	}
}

func compareTables(t *testing.T, name string, got, want []entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d ranked, official table has %d:\n got %v\nwant %v", name, len(got), len(want), got, want)
		return
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: position %d is %v, official %v", name, i+1, got[i], want[i])
		}
	}
}

// TestWellKnownFacts checks the computed championships against facts known
// independently of the archive.
func TestWellKnownFacts(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	type fact struct {
		season int
		table  string // "drivers" or "constructors"
		pos    int
		id     string
		points float64
	}
	facts := []fact{
		// Champions and runners-up.
		{2019, "drivers", 1, "lewis-hamilton", 413},
		{2019, "drivers", 2, "valtteri-bottas", 326},
		{2019, "constructors", 1, "mercedes", 739},
		{2020, "drivers", 1, "lewis-hamilton", 347},
		{2020, "constructors", 1, "mercedes", 573},
		{2021, "drivers", 1, "max-verstappen", 395.5},
		{2021, "drivers", 2, "lewis-hamilton", 387.5},
		{2021, "constructors", 1, "mercedes", 613.5},
		{2021, "constructors", 2, "red-bull", 585.5},
		{2022, "drivers", 1, "max-verstappen", 454},
		{2022, "drivers", 2, "charles-leclerc", 308},
		{2022, "constructors", 1, "red-bull", 759},
		{2023, "drivers", 1, "max-verstappen", 575},
		{2023, "drivers", 2, "sergio-perez", 285},
		{2023, "constructors", 1, "red-bull", 860},
		{2024, "drivers", 1, "max-verstappen", 437},
		{2024, "drivers", 2, "lando-norris", 374},
		{2024, "constructors", 1, "mclaren", 666},
		{2024, "constructors", 2, "ferrari", 652},
		{2025, "drivers", 1, "lando-norris", 423},
		{2025, "drivers", 2, "max-verstappen", 421},
		{2025, "drivers", 3, "oscar-piastri", 410},
		{2025, "constructors", 1, "mclaren", 833},
		// Racing Point lost 15 points in 2020, and 3rd place to McLaren.
		{2020, "constructors", 3, "mclaren", 202},
		{2020, "constructors", 4, "racing-point", 195},
		// Ties broken by countback.
		{2019, "drivers", 13, "daniil-kvyat", 37},
		{2019, "drivers", 14, "nico-hulkenberg", 37},
		{2020, "drivers", 6, "carlos-sainz-jr", 105},
		{2020, "drivers", 7, "alexander-albon", 105},
		{2022, "drivers", 16, "mick-schumacher", 12},
		{2022, "drivers", 17, "yuki-tsunoda", 12},
		{2022, "constructors", 6, "alfa-romeo", 55},
		{2022, "constructors", 7, "aston-martin", 55},
		{2023, "drivers", 4, "fernando-alonso", 206},
		{2023, "drivers", 5, "charles-leclerc", 206},
		// Nobody on 0 points is left out.
		{2019, "drivers", 20, "george-russell", 0},
		{2020, "constructors", 10, "williams", 0},
		{2021, "constructors", 10, "haas", 0},
	}
	cache := map[int][2][]entry{}
	for _, f := range facts {
		tabs, ok := cache[f.season]
		if !ok {
			d, c := finals(t, a, f.season)
			tabs = [2][]entry{d, c}
			cache[f.season] = tabs
		}
		tab := tabs[0]
		if f.table == "constructors" {
			tab = tabs[1]
		}
		want := entry{f.pos, f.id, f.points}
		if f.pos > len(tab) || tab[f.pos-1] != want {
			got := "nobody"
			if f.pos <= len(tab) {
				got = tab[f.pos-1].String()
			}
			t.Errorf("%d %s: position %d is %s, want %v", f.season, f.table, f.pos, got, want)
		}
	}
}

// TestStandingsAfterEachRound checks the running tables: totals grow by the
// round points, a penalty counts from its round, and everyone who took part
// is ranked.
func TestStandingsAfterEachRound(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	s, _ := a.Season(2020)
	ds, cs := f1.Standings(2020, scored(t, a, 2020), s.Penalties)
	rp := map[int]f1.ConstructorStanding{}
	for _, c := range cs {
		if c.TeamID == "racing-point" {
			rp[c.Round] = c
		}
	}
	// Round 4 (British GP): no penalty yet; round 5: the -15 applies.
	scoredIn5 := 0.0
	for _, r := range scored(t, a, 2020) {
		if r.Round == 5 && r.TeamID == "racing-point" {
			scoredIn5 += r.Points
		}
	}
	if got, want := rp[5].Points-rp[4].Points, scoredIn5-15; got != want || rp[5].RoundPoints != want {
		t.Errorf("racing point in round 5: total moved by %v (round points %v), want %v (scored %v, minus 15)",
			got, rp[5].RoundPoints, want, scoredIn5)
	}
	prev := map[string]float64{}
	positions := map[int][]int{}
	for _, d := range ds {
		if got := prev[d.DriverID] + d.RoundPoints; got != d.Points {
			t.Errorf("%d/%s: previous total + round points = %v, total %v", d.Round, d.DriverID, got, d.Points)
		}
		prev[d.DriverID] = d.Points
		positions[d.Round] = append(positions[d.Round], d.Position)
	}
	for round, ps := range positions {
		for i, p := range ps {
			if p != i+1 {
				t.Fatalf("round %d: positions %v, want 1 to %d", round, ps, len(ps))
			}
		}
	}
	// Russell drove for Mercedes in round 16 and Williams otherwise: his
	// team is that of his latest result.
	for _, d := range ds {
		if d.DriverID == "george-russell" && ((d.Round == 16) != (d.TeamID == "mercedes")) {
			t.Errorf("round %d: Russell's team is %s", d.Round, d.TeamID)
		}
	}
	if len(positions) != len(s.Rounds) {
		t.Errorf("tables for %d rounds, want %d", len(positions), len(s.Rounds))
	}
}

// TestStandingsPenaltyWaitsForItsRound checks that a penalty from a round
// not reached yet does not count, and that a driver penalty applies to the
// driver's total only.
func TestStandingsPenaltyWaitsForItsRound(t *testing.T) {
	t.Parallel()
	win := func(round int, driver, team string) f1.ScoredResult {
		return f1.ScoredResult{Result: f1.Result{Season: 2023, Round: round, Session: f1.Race, CarNumber: 1,
			DriverID: driver, TeamID: team, Status: f1.Finished, Position: at(1)}, Points: 25}
	}
	results := []f1.ScoredResult{win(1, "a", "x"), win(2, "b", "y")}
	pens := []f1.Penalty{
		{ID: "p1", Season: 2023, Kind: f1.PenaltyDriver, Target: "a", Points: -10, FromRound: 2},
		{ID: "p2", Season: 2023, Kind: f1.PenaltyDriver, Target: "a", Points: -5, FromRound: 3},
		{ID: "p3", Season: 2022, Kind: f1.PenaltyDriver, Target: "a", Points: -100, FromRound: 1},
	}
	ds, cs := f1.Standings(2023, results, pens)
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("r%d %d.%s %g", d.Round, d.Position, d.DriverID, d.Points))
	}
	want := "r1 1.a 25|r2 1.b 25|r2 2.a 15"
	if strings.Join(got, "|") != want {
		t.Errorf("drivers: %s, want %s", strings.Join(got, "|"), want)
	}
	for _, c := range cs {
		if c.Points != 25 {
			t.Errorf("constructor %s after round %d: %v points, want 25 (driver penalties are not the team's)", c.TeamID, c.Round, c.Points)
		}
	}
}

// TestWinsAndSprintWins checks the wins, podiums and sprint wins of every
// driver and constructor after the final round of each season against
// those derived from the archive (f1test), and a few known counts: Grand
// Prix wins and sprint wins are counted apart.
func TestWinsAndSprintWins(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	type counts struct{ wins, podiums, sprintWins int }
	got := map[string]counts{} // season/id
	for _, season := range a.Seasons() {
		s, _ := a.Season(season)
		ds, cs := f1.Standings(season, scored(t, a, season), s.Penalties)
		last := len(s.Rounds)
		for _, d := range ds {
			if d.Round == last {
				got[fmt.Sprintf("%d/%s", season, d.DriverID)] = counts{d.Wins, d.Podiums, d.SprintWins}
			}
		}
		for _, c := range cs {
			if c.Round == last {
				got[fmt.Sprintf("%d/%s", season, c.TeamID)] = counts{c.Wins, c.Podiums, c.SprintWins}
			}
		}
		wd, wc, err := f1test.Official(a, season)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range append(wd, wc...) {
			key := fmt.Sprintf("%d/%s", season, e.ID)
			if want := (counts{e.Wins, e.Podiums, e.SprintWins}); got[key] != want {
				t.Errorf("%s: wins, podiums, sprint wins %v, want %v", key, got[key], want)
			}
		}
	}
	for _, tt := range []struct {
		key  string
		want counts
	}{
		{"2023/max-verstappen", counts{19, 21, 4}},
		{"2023/sergio-perez", counts{2, 9, 1}},
		{"2023/oscar-piastri", counts{0, 2, 1}},
		{"2023/red-bull", counts{21, 30, 5}},
		{"2021/valtteri-bottas", counts{1, 11, 2}},
		{"2020/lewis-hamilton", counts{11, 14, 0}},
	} {
		if got[tt.key] != tt.want {
			t.Errorf("%s: wins, podiums, sprint wins %v, want %v", tt.key, got[tt.key], tt.want)
		}
	}
}
