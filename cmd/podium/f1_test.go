package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/dashboard"
	"github.com/podiumhq/podium/internal/f1/f1test"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/web"
)

func loadF1Archive(t *testing.T) *archive.Archive {
	t.Helper()
	a, err := archive.Load()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// readCSV parses a command's CSV output.
func readCSV(t *testing.T, out string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, out)
	}
	return recs
}

// officialCSV returns the official final tables of season as
// `podium f1 standings --format csv` prints them.
func officialCSV(t *testing.T, a *archive.Archive, season int) (drivers, constructors [][]string) {
	t.Helper()
	ds, cs, err := f1test.Official(a, season)
	if err != nil {
		t.Fatal(err)
	}
	header := []string{"position", "id", "name", "points", "wins", "podiums"}
	drivers, constructors = [][]string{header}, [][]string{header}
	for _, d := range ds {
		drivers = append(drivers, d.CSV())
	}
	for _, c := range cs {
		constructors = append(constructors, c.CSV())
	}
	return drivers, constructors
}

func diffRecords(t *testing.T, what string, got, want [][]string) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	var b strings.Builder
	for i := range max(len(got), len(want)) {
		var g, w []string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !reflect.DeepEqual(g, w) {
			fmt.Fprintf(&b, "\nline %d: got %q, want %q", i+1, strings.Join(g, ","), strings.Join(w, ","))
		}
	}
	t.Errorf("%s differs from the official table:%s", what, b.String())
}

// TestF1AllSeasonsOfficial replays every season of the archive with
// `podium f1 replay --season Y --interval 0` into one data dir, then checks
// that `podium f1 standings --season Y --format csv` (drivers and
// constructors) prints every driver and constructor with the official
// points, in the official order after the final round, and that every
// result in the store has its official points. The official tables come
// from the archive's points (f1test), not from the scoring code.
func TestF1AllSeasonsOfficial(t *testing.T) {
	t.Parallel()
	a := loadF1Archive(t)
	dir := t.TempDir()
	for _, season := range a.Seasons() {
		r := podium(t, dir, "", "f1", "replay", "--season", strconv.Itoa(season), "--interval", "0")
		if r.code != 0 || !strings.Contains(r.stderr, fmt.Sprintf("season %d rounds 1 to", season)) {
			t.Fatalf("f1 replay --season %d: %+v", season, r)
		}
	}
	for _, season := range a.Seasons() {
		wantD, wantC := officialCSV(t, a, season)
		r := podium(t, dir, "", "f1", "standings", "--season", strconv.Itoa(season), "--format", "csv")
		if r.code != 0 {
			t.Fatalf("f1 standings --season %d: %+v", season, r)
		}
		diffRecords(t, fmt.Sprintf("%d drivers", season), readCSV(t, r.stdout), wantD)
		r = podium(t, dir, "", "f1", "standings", "--season", strconv.Itoa(season), "--constructors", "--format", "csv")
		if r.code != 0 {
			t.Fatalf("f1 standings --season %d --constructors: %+v", season, r)
		}
		diffRecords(t, fmt.Sprintf("%d constructors", season), readCSV(t, r.stdout), wantC)
	}

	// Every result's points, straight from the store.
	s, err := store.Open(context.Background(), filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, season := range a.Seasons() {
		want, err := f1test.OfficialPoints(a, season)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.DB().Query(`SELECT round, session, car_number, points FROM f1_results WHERE season = $1`, season)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var round, car int
			var session string
			var pts float64
			if err := rows.Scan(&round, &session, &car, &pts); err != nil {
				t.Fatal(err)
			}
			n++
			key := f1.ResultKey(season, round, session, car)
			if w, ok := want[key]; !ok || pts != w {
				t.Errorf("%s: %v points in the store, official %v (in the archive: %v)", key, pts, w, ok)
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if n != len(want) {
			t.Errorf("%d: %d results in the store, %d in the archive", season, n, len(want))
		}
	}

	// Without --season: the latest season in the store.
	r := podium(t, dir, "", "f1", "standings", "--format", "csv")
	wantD, _ := officialCSV(t, a, 2025)
	if r.code != 0 {
		t.Fatalf("f1 standings: %+v", r)
	}
	diffRecords(t, "the default season's drivers", readCSV(t, r.stdout), wantD)

	t.Run("race", func(t *testing.T) { testF1Race(t, dir) })
	t.Run("standings", func(t *testing.T) { testF1Standings(t, dir) })
	t.Run("contention", func(t *testing.T) { testF1Contention(t, dir) })
	t.Run("amendments", func(t *testing.T) { testF1NoAmendments(t, dir) })
}

// testF1Contention runs podium f1 standings --contention on a data dir
// holding every season.
func testF1Contention(t *testing.T, dir string) {
	// The title maths rank as the standings do, round after round.
	for _, season := range []int{2021, 2023} {
		for _, round := range []string{"5", "17", "0"} {
			for _, kind := range [][]string{nil, {"--constructors"}} {
				args := append([]string{"f1", "standings", "--season", strconv.Itoa(season), "--after-round", round, "--format", "csv"}, kind...)
				st := podium(t, dir, "", args...)
				ct := podium(t, dir, "", append(args, "--contention")...)
				sr, cr := readCSV(t, st.stdout), readCSV(t, ct.stdout)
				if st.code != 0 || ct.code != 0 || len(sr) != len(cr) || !reflect.DeepEqual(cr[0], contentionCSV) {
					t.Fatalf("%v: %+v\nwith --contention: %+v", args, st, ct)
				}
				for i := 1; i < len(sr); i++ {
					if !reflect.DeepEqual(sr[i][:4], cr[i][:4]) {
						t.Errorf("%v line %d: standings %q, title maths %q", args, i, sr[i][:4], cr[i][:4])
					}
				}
			}
		}
	}

	// 2023 after the Qatar weekend (round 17): Verstappen clinched it in
	// the sprint.
	r := podium(t, dir, "", "f1", "standings", "--season", "2023", "--after-round", "17", "--contention")
	lines := strings.Split(r.stdout, "\n")
	if r.code != 0 || strings.Join(strings.Fields(lines[0]), " ") != "POS DRIVER CODE POINTS MAX TO CLINCH TITLE" ||
		strings.Join(strings.Fields(lines[1]), " ") != "1 Max Verstappen VER 433 579 0 champion" ||
		strings.Join(strings.Fields(lines[2]), " ") != "2 Sergio Pérez PER 224 370 – out" ||
		!strings.Contains(r.stderr, "2023 drivers' title after round 17, Qatar Grand Prix. Still to be won: 146 points per driver, "+
			"250 per constructor (5 races with the fastest-lap point, 2 sprints).") ||
		!strings.Contains(r.stderr, "Max Verstappen clinched the title at round 17, Qatar Grand Prix sprint.") {
		t.Errorf("2023 after round 17 --contention:\n%s\n%s", r.stdout, r.stderr)
	}
	// 2021 before Abu Dhabi: both in contention, neither safe alone.
	r = podium(t, dir, "", "f1", "standings", "--season", "2021", "--after-round", "21", "--contention", "--format", "json")
	var got []f1.Contender
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 || len(got) != 21 {
		t.Fatalf("2021 after round 21 --contention --format json: %v: %+v", err, r)
	}
	if got[0].ID != "max-verstappen" || got[1].ID != "lewis-hamilton" || !got[0].InContention || !got[1].InContention ||
		got[2].InContention || got[0].Needed != nil || got[0].MaxPoints != 395.5 || got[0].Champion {
		t.Errorf("2021 after round 21: %+v", got[:3])
	}
	// The drivers' title of each season of the issue, as the command says
	// it and the championship page shows it: 2021 open until Abu Dhabi,
	// 2023 clinched in the Qatar sprint, 2024 at Las Vegas, 2025 at the
	// final round.
	st, err := store.Open(context.Background(), filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := web.New(web.Config{})
	dashboard.Register(srv, dashboard.Options{DB: st.DB(), Calendar: f1Calendar})
	ts := httptest.NewServer(srv.Mux)
	defer ts.Close()
	for _, tt := range []struct {
		season, round int
		champion      string
		clinched      string // where, once clinched: on stderr and on the page
		inContention  int
	}{
		{2021, 21, "Max Verstappen", "", 2},
		{2021, 22, "Max Verstappen", "round 22, Abu Dhabi Grand Prix.", 1},
		{2023, 16, "Max Verstappen", "", 2},
		{2023, 17, "Max Verstappen", "round 17, Qatar Grand Prix sprint.", 1},
		{2024, 21, "Max Verstappen", "", 2},
		{2024, 22, "Max Verstappen", "round 22, Las Vegas Grand Prix.", 1},
		{2025, 23, "Lando Norris", "", 3},
		{2025, 24, "Lando Norris", "round 24, Abu Dhabi Grand Prix.", 1},
	} {
		after := []string{"f1", "standings", "--season", strconv.Itoa(tt.season), "--after-round", strconv.Itoa(tt.round), "--contention"}
		r := podium(t, dir, "", after...)
		j := podium(t, dir, "", append(after, "--format", "json")...)
		var cs []f1.Contender
		if err := json.Unmarshal([]byte(j.stdout), &cs); err != nil || r.code != 0 || j.code != 0 {
			t.Fatalf("%d after round %d --contention: %v: %+v %+v", tt.season, tt.round, err, r, j)
		}
		in := 0
		for _, c := range cs {
			if c.InContention {
				in++
			}
		}
		if in != tt.inContention {
			t.Errorf("%d after round %d: %d drivers in contention, want %d", tt.season, tt.round, in, tt.inContention)
		}
		page := get(t, fmt.Sprintf("%s/championship?season=%d&round=%d", ts.URL, tt.season, tt.round))
		said := tt.champion + " clinched the title at "
		switch {
		case tt.clinched == "" && (strings.Contains(r.stderr, said) || strings.Contains(page, said)):
			t.Errorf("%d after round %d: the title is said clinched, want it open:\n%s", tt.season, tt.round, r.stderr)
		case tt.clinched != "" && (!strings.Contains(r.stderr, said+tt.clinched) || !strings.Contains(page, said+tt.clinched)):
			t.Errorf("%d after round %d: want %q on stderr and on the championship page:\n%s", tt.season, tt.round, said+tt.clinched, r.stderr)
		}
	}

	// The constructors of 2025: McLaren clinched at Singapore (round 18).
	r = podium(t, dir, "", "f1", "standings", "--season", "2025", "--contention", "--constructors")
	if r.code != 0 || !strings.Contains(r.stderr, "McLaren clinched the title at round 18, Singapore Grand Prix.") ||
		!strings.Contains(r.stderr, "Nothing left to win: the season is over.") || !strings.HasPrefix(strings.Split(r.stdout, "\n")[1], "1    McLaren") {
		t.Errorf("2025 constructors --contention:\n%s\n%s", r.stdout, r.stderr)
	}
}

// testF1NoAmendments: replaying the archive amends nothing.
func testF1NoAmendments(t *testing.T, dir string) {
	r := podium(t, dir, "", "f1", "amendments")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "no amendment of any season in the store") {
		t.Errorf("f1 amendments after replaying the archive: %+v", r)
	}
	r = podium(t, dir, "", "f1", "amendments", "--season", "2023", "--format", "csv")
	if r.code != 0 || r.stdout != strings.Join(amendmentCSV, ",")+"\n" {
		t.Errorf("f1 amendments --format csv: %+v", r)
	}
	r = podium(t, dir, "", "f1", "amendments", "--format", "json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("f1 amendments --format json: %+v", r)
	}
	if r := podium(t, dir, "", "f1", "amendments", "--format", "xml"); r.code != 2 || !strings.Contains(r.stderr, `unknown format "xml"`) {
		t.Errorf("f1 amendments --format xml: %+v", r)
	}
}

// testF1Race runs podium f1 race on a data dir holding every season.
func testF1Race(t *testing.T, dir string) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // lines stdout starts with, in order
		has    []string // in stdout
		stderr []string // in stderr
	}{
		{name: "Spa 2021, half points", args: []string{"--season", "2021", "--round", "12", "--format", "csv"},
			stdout: []string{
				"position,car_number,driver_id,driver_code,driver_name,team_id,team_name,laps,time,status,points,grid,fastest_lap",
				"1,33,max-verstappen,VER,Max Verstappen,red-bull,Red Bull,1,",
			},
			has: []string{",FINISHED,12.5,1,false,\n", ",FINISHED,9,", "lewis-hamilton,HAM,Lewis Hamilton,mercedes,Mercedes,1,"}},
		{name: "Austin 2023, two disqualified", args: []string{"--season", "2023", "--round", "18"},
			stdout: []string{
				"POS  NO  DRIVER            TEAM          LAPS  TIME/GAP     STATUS    POINTS",
				"1    1   Max Verstappen    Red Bull      56    1:35:21.362  FINISHED  25",
				"2    4   Lando Norris      McLaren       56    +10.730      FINISHED  18",
			},
			has: []string{"\nDSQ  44  Lewis Hamilton    Mercedes      56                 DSQ       0       Illegal skid block wear\n",
				"\nDNF  14  Fernando Alonso"},
			stderr: []string{"2023 round 18, United States Grand Prix: race (2023-10-22), fastest lap Yuki Tsunoda"}},
		{name: "Spa 2024, Russell underweight", args: []string{"--season", "2024", "--round", "14"},
			has: []string{"\nDSQ  63  George Russell", "DSQ       0       Car underweight\n"}},
		{name: "the sprint of Baku 2023", args: []string{"--season", "2023", "--round", "4", "--sprint", "--format", "csv"},
			stdout: []string{"position,", "1,11,sergio-perez,PER,Sergio Pérez,red-bull,Red Bull,17,33:17.667,FINISHED,8,"}},
		{name: "the latest round by default", args: []string{"--season", "2024"},
			stderr: []string{"2024 round 24, Abu Dhabi Grand Prix: race"}},
		{name: "no sprint that weekend", args: []string{"--season", "2023", "--round", "5", "--sprint"}, code: 1,
			stderr: []string{"podium: 2023 round 5 (Miami Grand Prix) had no sprint\n"}},
		{name: "no such round", args: []string{"--season", "2023", "--round", "30"}, code: 1,
			stderr: []string{"podium: 2023 had 22 rounds: there is no round 30 (the store has rounds 1 to 22)\n"}},
		{name: "a season not in the archive", args: []string{"--season", "1999"}, code: 1,
			stderr: []string{"podium: the store has no F1 results of 1999: the archive has the seasons 2019 to 2025 (podium f1 replay --season 2025)"}},
		{name: "bad format", args: []string{"--format", "xml"}, code: 2,
			stderr: []string{`podium: unknown format "xml": use table, json or csv`, "Run 'podium f1 race --help' for usage."}},
		{name: "negative round", args: []string{"--round", "-1"}, code: 2, stderr: []string{"--round -1: must be 1 or more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := podium(t, dir, "", append([]string{"f1", "race"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d: %+v", r.code, tt.code, r)
			}
			lines := strings.Split(r.stdout, "\n")
			for i, w := range tt.stdout {
				if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
					t.Errorf("stdout line %d does not start with %q:\n%s", i+1, w, r.stdout)
				}
			}
			for _, w := range tt.has {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if tt.code != 0 && r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}

	// JSON: the CSV columns as keys; position and grid null when none.
	r := podium(t, dir, "", "f1", "race", "--season", "2023", "--round", "18", "--format", "json")
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 || len(got) != 20 {
		t.Fatalf("f1 race --format json: %v: %+v", err, r)
	}
	for _, k := range classificationCSV {
		if _, ok := got[0][k]; !ok {
			t.Errorf("JSON line lacks %q: %v", k, got[0])
		}
	}
	if last := got[19]; last["driver_code"] != "LEC" || last["status"] != "DSQ" || last["position"] != nil || last["points"] != 0.0 ||
		last["reason"] != "Illegal skid block wear" || last["official_points"] != 0.0 || last["derived_points"] != 0.0 {
		t.Errorf("last line of Austin 2023: %v, want Leclerc disqualified for skid block wear, no position, 0 points (official and derived)", last)
	}
}

// testF1Standings checks the standings' flags and formats on a data dir
// holding every season.
func testF1Standings(t *testing.T, dir string) {
	// After a round, under the new and the old flag.
	r := podium(t, dir, "", "f1", "standings", "--season", "2021", "--after-round", "12", "--format", "csv")
	old := podium(t, dir, "", "f1", "standings", "--season", "2021", "--round", "12", "--format", "csv")
	recs := readCSV(t, r.stdout)
	if r.code != 0 || len(recs) < 2 || recs[1][1] != "lewis-hamilton" || old.stdout != r.stdout ||
		!strings.Contains(old.stderr, "--round is deprecated: use --after-round") {
		t.Errorf("standings after round 12 of 2021: %+v\nwith --round: %+v", r, old)
	}
	if r := podium(t, dir, "", "f1", "standings", "--round", "3", "--after-round", "4"); r.code != 2 {
		t.Errorf("--round and --after-round: %+v", r)
	}
	if r := podium(t, dir, "", "f1", "standings", "--help"); strings.Contains(r.stdout, "--round") || !strings.Contains(r.stdout, "--after-round") {
		t.Errorf("help shows the deprecated --round or lacks --after-round:\n%s", r.stdout)
	}
	r = podium(t, dir, "", "f1", "standings", "--season", "2021", "--after-round", "30")
	if r.code != 1 || !strings.Contains(r.stderr, "2021 had 22 rounds: there is no round 30") {
		t.Errorf("after round 30: %+v", r)
	}

	// The table shows sprint wins apart, in the seasons with sprints.
	r = podium(t, dir, "", "f1", "standings", "--season", "2023")
	lines := strings.Split(r.stdout, "\n")
	if r.code != 0 || !strings.HasSuffix(lines[0], "WINS  PODIUMS  SPRINT WINS") ||
		strings.Join(strings.Fields(lines[1]), " ") != "1 Max Verstappen VER Red Bull 575 19 21 4" ||
		!strings.Contains(r.stderr, "2023 drivers' championship after round 22, Abu Dhabi Grand Prix") {
		t.Errorf("2023 drivers' table:\n%s\n%s", r.stdout, r.stderr)
	}
	r = podium(t, dir, "", "f1", "standings", "--season", "2023", "--constructors")
	if lines := strings.Split(r.stdout, "\n"); r.code != 0 || !strings.HasSuffix(lines[0], "SPRINT WINS") ||
		strings.Join(strings.Fields(lines[1]), " ") != "1 Red Bull 860 21 30 5" {
		t.Errorf("2023 constructors' table:\n%s", r.stdout)
	}
	r = podium(t, dir, "", "f1", "standings", "--season", "2019")
	if r.code != 0 || strings.Contains(r.stdout, "SPRINT") || !strings.Contains(r.stdout, "Lewis Hamilton") {
		t.Errorf("2019 drivers' table (no sprints):\n%s", r.stdout)
	}

	// JSON: the CSV's keys, then more.
	for _, args := range [][]string{{"--season", "2021"}, {"--season", "2021", "--constructors"}} {
		r = podium(t, dir, "", append([]string{"f1", "standings", "--format", "json"}, args...)...)
		var got []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 || len(got) < 10 {
			t.Fatalf("standings %v --format json: %v: %+v", args, err, r)
		}
		for _, k := range []string{"position", "id", "name", "points", "wins", "podiums", "sprint_wins"} {
			if _, ok := got[0][k]; !ok {
				t.Errorf("standings %v: JSON line lacks %q: %v", args, k, got[0])
			}
		}
		if got[0]["points"] == 395.5 && got[0]["id"] != "max-verstappen" {
			t.Errorf("standings %v: %v", args, got[0])
		}
	}
}

// TestF1ReadCommandsErrors runs the read commands on stores that lack what
// they are asked for: each says how to load it.
func TestF1ReadCommandsErrors(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	for _, args := range [][]string{{"f1", "standings"}, {"f1", "race"}} {
		r := podium(t, empty, "", args...)
		if r.code != 1 || !strings.Contains(r.stderr, "the store has no F1 results yet: load a season with podium f1 replay --season 2023") {
			t.Errorf("%v on an empty store: %+v", args, r)
		}
	}
	dir := t.TempDir()
	if r := podium(t, dir, "", "f1", "replay", "--season", "2024", "--from-round", "3", "--to-round", "4"); r.code != 0 {
		t.Fatalf("replay: %+v", r)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"f1", "race", "--season", "2024", "--round", "6"},
			"podium: the store has no results of 2024 round 6 (Miami Grand Prix): it has rounds 3 to 4; load the season with podium f1 replay --season 2024\n"},
		{[]string{"f1", "standings", "--season", "2024", "--after-round", "2"},
			"podium: the store has no results of 2024 round 2 (Saudi Arabian Grand Prix): it has rounds 3 to 4; load the season with podium f1 replay --season 2024\n"},
		{[]string{"f1", "race", "--season", "2023"},
			"podium: the store has no F1 results of 2023: load it with podium f1 replay --season 2023\n"},
		{[]string{"f1", "standings", "--season", "2023", "--constructors"},
			"podium: the store has no F1 results of 2023: load it with podium f1 replay --season 2023\n"},
	}
	for _, tt := range tests {
		if r := podium(t, dir, "", tt.args...); r.code != 1 || r.stderr != tt.want || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q; want exit 1, %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
	if r := podium(t, dir, "", "f1", "race"); r.code != 0 || !strings.Contains(r.stderr, "2024 round 4, Japanese Grand Prix: race") {
		t.Errorf("f1 race without flags: %+v", r)
	}
}

// TestF1DemoSettings checks the demo's settings: their defaults, and the
// errors for a season outside the archive and a negative interval.
func TestF1DemoSettings(t *testing.T) {
	t.Parallel()
	a := loadF1Archive(t)
	season, _ := strconv.Atoi(defaultDemoSeason)
	if _, ok := a.Season(season); !ok {
		t.Fatalf("the default demo season %s is not in the archive", defaultDemoSeason)
	}
	r := runPodium(t, nil, "config")
	if r.code != 0 || !strings.Contains(r.stdout, "demo_season: 2023") || !strings.Contains(r.stdout, "demo_interval: 5s") {
		t.Errorf("config shows no F1 demo defaults:\n%s", r.stdout)
	}
	r = runPodium(t, map[string]string{"PODIUM_F1_DEMO_SEASON": "2021", "PODIUM_F1_DEMO_INTERVAL": "2s"}, "config")
	if r.code != 0 || !strings.Contains(r.stdout, "demo_season: 2021") || !strings.Contains(r.stdout, "demo_interval: 2s") {
		t.Errorf("config with PODIUM_F1_DEMO_*:\n%s", r.stdout)
	}
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PODIUM_F1_DEMO_SEASON": "1999"}, `invalid PODIUM_F1_DEMO_SEASON "1999": season 1999 is not in the F1 archive: use 2019 to 2025`},
		{map[string]string{"PODIUM_F1_DEMO_SEASON": "latest"}, `invalid PODIUM_F1_DEMO_SEASON "latest"`},
		{map[string]string{"PODIUM_F1_DEMO_INTERVAL": "-1s"}, `invalid PODIUM_F1_DEMO_INTERVAL "-1s": use a duration such as`},
	}
	for _, tt := range tests {
		if r := runPodium(t, tt.env, "config"); r.code != 1 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("config with %v: %+v; want exit 1 and %q", tt.env, r, tt.want)
		}
	}
}

// TestF1Demo starts `podium demo` on a fresh data dir: the first result of
// the default season (2023: Verstappen's win in Bahrain) lands in the store
// within a few seconds.
func TestF1Demo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		var stdout, stderr lockedBuffer
		// A long interval: the first result is published at once, the
		// next only in an hour.
		env := map[string]string{"PODIUM_F1_DEMO_INTERVAL": "1h"}
		a := newApp(&stdout, &stderr, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		code := a.run(ctx, []string{"--data-dir", dir, "--http", "127.0.0.1:0", "demo"})
		done <- result{code, stdout.String(), stderr.String()}
	}()
	var got []string
	// A generous deadline: under -race on a loaded CI machine the demo's
	// start (migrations, the activities backfill beside it) is slow; how
	// fast the first result lands is a benchmark matter, not a test's.
	deadline := start.Add(90 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		got = f1ResultKeys(t, dir)
	}
	elapsed := time.Since(start)
	stop()
	r := <-done
	if len(got) != 1 || got[0] != "2023/1/RACE/1" {
		t.Fatalf("results in the store after %v: %v, want 2023/1/RACE/1; demo: %+v", elapsed, got, r)
	}
	if r.code != 0 || !strings.Contains(r.stderr, `msg="F1 demo: replaying the archive" season=2023 interval=1h0m0s`) {
		t.Errorf("demo: %+v", r)
	}
}

// f1ResultKeys returns the keys of the results in the store of data dir
// dir; none while the store or its tables do not exist yet.
func f1ResultKeys(t *testing.T, dir string) []string {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		return nil
	}
	defer s.Close()
	rows, err := s.DB().Query(`SELECT season, round, session, car_number FROM f1_results ORDER BY season, round, session, car_number`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var season, round, car int
		var session string
		if err := rows.Scan(&season, &round, &session, &car); err != nil {
			t.Fatal(err)
		}
		out = append(out, f1.ResultKey(season, round, session, car))
	}
	return out
}
