package f1_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/f1test"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// seasonTables is what the store holds of one season after a replay.
type seasonTables struct {
	rounds  []f1.RoundInfo
	drivers []f1.SeasonDriver
	// standings after every round, in round order.
	driverStandings      [][]f1.DriverStanding
	constructorStandings [][]f1.ConstructorStanding
	// results are every result of the season as "key driver team status
	// position points fastest-lap derived-points official-points", in key
	// order.
	results []string
}

// snapshot reads every table of every season of the archive from s.
func snapshot(t *testing.T, s *store.Store, a *archive.Archive) map[int]seasonTables {
	t.Helper()
	ctx := context.Background()
	db := s.DB()
	out := map[int]seasonTables{}
	for _, season := range a.Seasons() {
		var st seasonTables
		var err error
		if st.rounds, err = f1.Rounds(ctx, db, season); err != nil {
			t.Fatal(err)
		}
		if st.drivers, err = f1.SeasonDrivers(ctx, db, season); err != nil {
			t.Fatal(err)
		}
		for _, r := range st.rounds {
			ds, err := f1.DriverStandings(ctx, db, season, r.Round)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := f1.ConstructorStandings(ctx, db, season, r.Round)
			if err != nil {
				t.Fatal(err)
			}
			st.driverStandings = append(st.driverStandings, ds)
			st.constructorStandings = append(st.constructorStandings, cs)
		}
		rows, err := db.QueryContext(ctx, `SELECT round, session, car_number, driver_id, team_id, status,
			COALESCE(position, 0), points, fastest_lap, derived_points, COALESCE(official_points, -1) FROM f1_results
			WHERE season = $1 ORDER BY round, session DESC, car_number`, season)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var round, car, pos int
			var session, driver, team, status string
			var points, derived, official float64
			var fl bool
			if err := rows.Scan(&round, &session, &car, &driver, &team, &status, &pos, &points, &fl, &derived, &official); err != nil {
				t.Fatal(err)
			}
			st.results = append(st.results, fmt.Sprintf("%s %s %s %s %d %g %v %g %g",
				f1.ResultKey(season, round, session, car), driver, team, status, pos, points, fl, derived, official))
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		out[season] = st
	}
	return out
}

// checkOfficial compares the final tables and every result's points of
// each season in tabs with the official ones derived from the archive.
func checkOfficial(t *testing.T, a *archive.Archive, tabs map[int]seasonTables) {
	t.Helper()
	for _, season := range a.Seasons() {
		st := tabs[season]
		s, _ := a.Season(season)
		if len(st.rounds) != len(s.Rounds) {
			t.Errorf("%d: %d rounds in the store, %d in the archive", season, len(st.rounds), len(s.Rounds))
			continue
		}
		wantD, wantC, err := f1test.Official(a, season)
		if err != nil {
			t.Fatal(err)
		}
		var gotD, gotC []f1test.Entry
		for _, d := range st.driverStandings[len(st.driverStandings)-1] {
			gotD = append(gotD, f1test.Entry{Position: d.Position, ID: d.DriverID, Name: d.DriverName, Points: d.Points,
				Wins: d.Wins, Podiums: d.Podiums, SprintWins: d.SprintWins})
		}
		for _, c := range st.constructorStandings[len(st.constructorStandings)-1] {
			gotC = append(gotC, f1test.Entry{Position: c.Position, ID: c.TeamID, Name: c.TeamName, Points: c.Points,
				Wins: c.Wins, Podiums: c.Podiums, SprintWins: c.SprintWins})
		}
		for _, tab := range []struct {
			name      string
			got, want []f1test.Entry
		}{{"drivers", gotD, wantD}, {"constructors", gotC, wantC}} {
			if !reflect.DeepEqual(tab.got, tab.want) {
				t.Errorf("%d %s' final table:\n got %+v\nwant %+v", season, tab.name, tab.got, tab.want)
			}
		}
		points, err := f1test.OfficialPoints(a, season)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.results) != len(points) {
			t.Errorf("%d: %d results in the store, %d in the archive", season, len(st.results), len(points))
		}
		for _, line := range st.results {
			var key, driver, team, status string
			var pos int
			var got, derived, official float64
			var fl bool
			if _, err := fmt.Sscanf(line, "%s %s %s %s %d %g %v %g %g", &key, &driver, &team, &status, &pos, &got, &fl,
				&derived, &official); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			// The official figure is stored and counts, and the season's
			// rules give the same: no mismatch in 2019–2025.
			if want, ok := points[key]; !ok || got != want || official != want || derived != want {
				t.Errorf("%s: %v points (official %v, rules %v), official %v (in the archive: %v)", key, got, official, derived, want, ok)
			}
		}
	}
}

// TestPipelineAllSeasons replays the seven seasons of the archive on
// JetStream + SQLite and on Kafka + PostgreSQL (when
// PODIUM_TEST_POSTGRES_URL is set): each gets the official final tables
// and points, and the two get identical tables, round by round.
func TestPipelineAllSeasons(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	setups := []struct {
		name    string
		dialect store.Dialect
		engine  enginetest.Engine
	}{
		{"jetstream+sqlite", store.SQLite, enginetest.JetStream},
		{"kafka+postgres", store.Postgres, enginetest.Kafka},
	}
	var mu sync.Mutex
	got := map[string]map[int]seasonTables{}
	t.Run("replay", func(t *testing.T) {
		for _, su := range setups {
			t.Run(su.name, func(t *testing.T) {
				t.Parallel()
				if su.dialect == store.Postgres && os.Getenv(storetest.PostgresEnv) == "" {
					t.Skipf("%s is not set: skipping PostgreSQL", storetest.PostgresEnv)
				}
				p := newPipeline(t, su.dialect, su.engine)
				n := 0
				for _, season := range a.Seasons() {
					n += p.replay(a, archive.ReplayOptions{Season: season})
				}
				p.catchUp()
				if stored := p.count("f1_results") + p.count("f1_penalties"); stored != n {
					t.Fatalf("%d results and penalties stored, %d published", stored, n)
				}
				tabs := snapshot(t, p.store, a)
				checkOfficial(t, a, tabs)
				mu.Lock()
				got[su.name] = tabs
				mu.Unlock()
			})
		}
	})
	x, y := got[setups[0].name], got[setups[1].name]
	if x == nil || y == nil {
		t.Logf("compared %d setups with each other: nothing to compare", len(got))
		return
	}
	for _, season := range a.Seasons() {
		sx, sy := x[season], y[season]
		for _, c := range []struct {
			what string
			x, y any
		}{
			{"rounds", sx.rounds, sy.rounds},
			{"drivers", sx.drivers, sy.drivers},
			{"drivers' standings", sx.driverStandings, sy.driverStandings},
			{"constructors' standings", sx.constructorStandings, sy.constructorStandings},
			{"results", sx.results, sy.results},
		} {
			if !reflect.DeepEqual(c.x, c.y) {
				t.Errorf("%d %s differ:\n%s: %+v\n%s: %+v", season, c.what, setups[0].name, c.x, setups[1].name, c.y)
			}
		}
	}
}

// TestPipelineDrivers checks f1_drivers through the 2025 swap of Lawson and
// Tsunoda (Red Bull and Racing Bulls exchanged them after round 2): a
// driver's row follows the latest result, whatever order the results come
// in, and keeps the latest headshot a result brought; each result's points
// go to the team of its session.
func TestPipelineDrivers(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		p := newPipeline(t, d, enginetest.JetStream)
		ctx := context.Background()
		find := func(id string) f1.SeasonDriver {
			t.Helper()
			ds, err := f1.SeasonDrivers(ctx, p.store.DB(), 2025)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if d.DriverID == id {
					return d
				}
			}
			t.Fatalf("no %s among the drivers of 2025: %+v", id, ds)
			return f1.SeasonDriver{}
		}
		p.replay(a, archive.ReplayOptions{Season: 2025, ToRound: 2})
		p.catchUp()
		if got, want := find("liam-lawson"), (f1.SeasonDriver{Season: 2025, DriverID: "liam-lawson", CarNumber: 30,
			DriverCode: "LAW", DriverName: "Liam Lawson", TeamID: "red-bull", TeamName: "Red Bull",
			TeamColour: archive.TeamColour("red-bull"), LastRound: 2}); got != want {
			t.Errorf("Lawson after round 2:\n got %+v\nwant %+v", got, want)
		}

		// Round 3 from a source with headshots (OpenF1), then round 1
		// again and round 4 without: the row stays that of round 4, with
		// round 3's headshot.
		const photo = "https://media.formula1.com/law.png"
		rd, _ := a.Round(2025, 3)
		race, _ := rd.Session(f1.Race)
		r3 := slices.Clone(race.Results)
		for i := range r3 {
			if r3[i].DriverID == "liam-lawson" {
				r3[i].HeadshotURL = photo
			}
		}
		p.publish(f1.TopicResults, anys(r3)...)
		p.catchUp()
		p.replay(a, archive.ReplayOptions{Season: 2025, FromRound: 4, ToRound: 4})
		p.publish(f1.TopicResults, anys(archiveResults(t, a, 2025, 1, 1))...)
		p.catchUp()
		if got, want := find("liam-lawson"), (f1.SeasonDriver{Season: 2025, DriverID: "liam-lawson", CarNumber: 30,
			DriverCode: "LAW", DriverName: "Liam Lawson", TeamID: "racing-bulls", TeamName: "Racing Bulls",
			TeamColour: archive.TeamColour("racing-bulls"), HeadshotURL: photo, LastRound: 4}); got != want {
			t.Errorf("Lawson after round 4:\n got %+v\nwant %+v", got, want)
		}
		if tsu := find("yuki-tsunoda"); tsu.TeamID != "red-bull" || tsu.CarNumber != 22 || tsu.HeadshotURL != "" {
			t.Errorf("Tsunoda after round 4: %+v, want car 22 at Red Bull, no headshot", tsu)
		}
		results := archiveResults(t, a, 2025, 1, 4)
		p.expectStandings(2025, results, nil)
		var tsuRB, tsuRBR float64
		for _, r := range results {
			if r.DriverID == "yuki-tsunoda" && r.TeamID == "racing-bulls" {
				tsuRBR += r.Points
			}
			if r.DriverID == "yuki-tsunoda" && r.TeamID == "red-bull" {
				tsuRB += r.Points
			}
		}
		tsu, _ := standing(t, p.store.DB(), 2025, 4, "yuki-tsunoda")
		_, rb := standing(t, p.store.DB(), 2025, 4, "red-bull")
		if tsuRB == 0 || tsuRBR == 0 || tsu.Points != tsuRB+tsuRBR {
			t.Errorf("Tsunoda after round 4: %v points (%v for Racing Bulls, %v for Red Bull)", tsu.Points, tsuRBR, tsuRB)
		}
		_, rbrs := standing(t, p.store.DB(), 2025, 4, "racing-bulls")
		if want := sumTeam(results, "racing-bulls"); rbrs.Points != want {
			t.Errorf("Racing Bulls after round 4: %v points, want %v (Tsunoda's rounds 1 and 2 included)", rbrs.Points, want)
		}
		if want := sumTeam(results, "red-bull"); rb.Points != want {
			t.Errorf("Red Bull after round 4: %v points, want %v (Tsunoda's rounds 3 and 4 included)", rb.Points, want)
		}
	})
}
