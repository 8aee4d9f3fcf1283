package openf1

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/f1"

	"github.com/podiumhq/podium/internal/f1/openf1/openf1test"
)

// bahrainData reads the race's data from the fake, as the follower does.
func bahrainData(t *testing.T) (SessionData, []Meeting, []Session) {
	t.Helper()
	f := openf1test.NewFake(t, openf1test.Bahrain)
	c := testClient(f, nil, Config{RateLimit: -1})
	ctx := context.Background()
	var d SessionData
	ss, err := c.Sessions(ctx, Eq("session_key", 7953))
	if err != nil || len(ss) != 1 {
		t.Fatalf("session: %v %v", ss, err)
	}
	d.Session = ss[0]
	ms, err := c.Meetings(ctx, Eq("meeting_key", 1141))
	if err != nil || len(ms) != 1 {
		t.Fatalf("meeting: %v %v", ms, err)
	}
	d.Meeting = ms[0]
	if d.Drivers, err = c.Drivers(ctx, Eq("session_key", 7953)); err != nil {
		t.Fatal(err)
	}
	if d.Results, err = c.SessionResults(ctx, Eq("session_key", 7953)); err != nil {
		t.Fatal(err)
	}
	if d.Grid, err = c.StartingGrid(ctx, Eq("session_key", 7953)); err != nil {
		t.Fatal(err)
	}
	meetings, err := c.Meetings(ctx, Eq("year", 2023))
	if err != nil {
		t.Fatal(err)
	}
	races, err := c.Sessions(ctx, Eq("year", 2023), Eq("session_name", "Race"))
	if err != nil {
		t.Fatal(err)
	}
	return d, meetings, races
}

func TestMapResultsBahrain2023(t *testing.T) {
	d, meetings, races := bahrainData(t)
	results, err := MapResults(d, NewFallbackResolver(meetings, races, d.Drivers))
	if err != nil {
		t.Fatal(err)
	}
	// Classification order, status, position, time, grid.
	want := []string{
		"1 VER FINISHED P1 1:33:56.736 grid 1",
		"2 PER FINISHED P2 +11.987 grid 2",
		"3 ALO FINISHED P3 +38.637 grid 5",
		"4 SAI FINISHED P4 +48.052 grid 4",
		"5 HAM FINISHED P5 +50.977 grid 7",
		"6 STR FINISHED P6 +54.502 grid 8",
		"7 RUS FINISHED P7 +55.873 grid 6",
		"8 BOT FINISHED P8 +72.647 grid 12",
		"9 GAS FINISHED P9 +73.753 grid 20",
		"10 ALB FINISHED P10 +89.774 grid 15",
		"11 SAR FINISHED P11 +1 LAP grid 16",
		"12 MAG FINISHED P12 +1 LAP grid 17",
		"13 DEV FINISHED P13 +1 LAP grid 19",
		"14 ZHO FINISHED P14 +1 LAP grid 13",
		"15 HUL FINISHED P15 +1 LAP grid 10",
		"16 NOR FINISHED P16 +2 LAPS grid 11",
		"17 OCO DNF - - grid 9",
		"18 LEC DNF - - grid 3",
		"19 PIA DNF - - grid 18",
		"20 TSU DSQ - - grid 14",
	}
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d", len(results), len(want))
	}
	for i, r := range results {
		pos, tm, grid := "-", r.Time, "-"
		if r.Position != nil {
			pos = fmt.Sprintf("P%d", *r.Position)
		}
		if tm == "" {
			tm = "-"
		}
		if r.Grid != nil {
			grid = fmt.Sprint(*r.Grid)
		}
		got := fmt.Sprintf("%d %s %s %s %s grid %s", r.Order, r.DriverCode, r.Status, pos, tm, grid)
		if got != want[i] {
			t.Errorf("line %d: %q, want %q", i+1, got, want[i])
		}
		if err := r.Validate(); err != nil {
			t.Errorf("line %d: %v", i+1, err)
		}
		if r.Cars != 20 || r.Season != 2023 || r.Round != 1 || r.Session != f1.Race || r.SessionKey != 7953 ||
			r.GrandPrix != "Bahrain Grand Prix" || r.Date != "2023-03-05" || r.PointsScale != f1.ScaleFull ||
			r.Source != f1.SourceOpenF1REST {
			t.Errorf("line %d identity: %+v", i+1, r)
		}
	}

	ver := results[0]
	if ver.DriverID != "max-verstappen" || ver.TeamID != "red-bull-racing" || ver.DriverName != "Max Verstappen" ||
		ver.TeamName != "Red Bull Racing" || ver.TeamColour != "3671C6" || !strings.HasPrefix(ver.HeadshotURL, "https://") ||
		ver.Laps != 57 || ver.FastestLap || ver.Points == nil || *ver.Points != 25 || ver.Key() != "2023/1/RACE/1" {
		t.Errorf("VER = %+v", ver)
	}
	byCode := map[string]f1.Result{}
	for _, r := range results {
		byCode[r.DriverCode] = r
	}
	if r := byCode["NOR"]; r.TeamColour != "F58020" || r.TeamID != "mclaren" {
		t.Errorf("NOR colour %q team %q", r.TeamColour, r.TeamID)
	}
	if r := byCode["DEV"]; r.DriverID != "nyck-de-vries" || r.TeamColour != "" || r.HeadshotURL != "" {
		t.Errorf("DEV = %+v", r)
	}
	if r := byCode["ZHO"]; r.DriverName != "Guanyu Zhou" || r.DriverID != "guanyu-zhou" {
		t.Errorf("ZHO = %+v", r)
	}
	if r := byCode["LEC"]; r.Laps != 39 || r.FastestLap || r.Points == nil || *r.Points != 0 {
		t.Errorf("LEC = %+v", r)
	}
	if r := byCode["ALB"]; r.Points == nil || *r.Points != 1 {
		t.Errorf("ALB's official point: %+v", r)
	}
}

// TestMapResultsOfficialPoints: session_result.points is the official
// figure; the fastest lap is taken only when those points prove it.
func TestMapResultsOfficialPoints(t *testing.T) {
	pf := func(v float64) *float64 { return &v }
	p := func(n int) *int { return &n }
	tests := []struct {
		name    string
		season  int
		session string
		pos     *int
		points  *float64
		// want
		points2 *float64
		fastest bool
	}{
		{"P1 with the fastest-lap point", 2023, "Race", p(1), pf(26), pf(26), true},
		{"P1 without it", 2023, "Race", p(1), pf(25), pf(25), false},
		{"P10 with it", 2024, "Race", p(10), pf(2), pf(2), true},
		{"P11: no point for the fastest lap", 2023, "Race", p(11), pf(0), pf(0), false},
		{"no fastest-lap point from 2025", 2025, "Race", p(1), pf(26), pf(26), false},
		{"half points of a shortened race", 2023, "Race", p(1), pf(12.5), pf(12.5), false},
		{"sprint", 2023, "Sprint", p(1), pf(8), pf(8), false},
		{"no points given", 2023, "Race", p(1), nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := SessionData{Session: Session{SessionKey: 1, SessionName: tt.session, Year: tt.season},
				Drivers: []Driver{{DriverNumber: 7, FirstName: "A", LastName: "Driver", TeamName: "Team"}},
				Results: []SessionResult{{DriverNumber: 7, Position: tt.pos, NumberOfLaps: 50, Points: tt.points}},
				Source:  f1.SourceOpenF1MQTT}
			rs, err := MapResults(d, stubResolver{round: 2})
			if err != nil {
				t.Fatal(err)
			}
			r := rs[0]
			if fmt.Sprint(derefF(r.Points)) != fmt.Sprint(derefF(tt.points2)) || r.FastestLap != tt.fastest || r.Source != f1.SourceOpenF1MQTT ||
				r.FastestLapOfficial != (tt.points != nil) {
				t.Errorf("points %v fastest lap %v (official %v) source %s; want %v %v (official %v) %s", derefF(r.Points), r.FastestLap,
					r.FastestLapOfficial, r.Source, derefF(tt.points2), tt.fastest, tt.points != nil, f1.SourceOpenF1MQTT)
			}
		})
	}
}

func derefF(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// stubResolver is an archive that knows some entrants.
type stubResolver struct {
	round   int
	gp      string
	entrant map[int][2]string
}

func (s stubResolver) Round(season int, date time.Time, meetingName string) (int, string, bool) {
	return s.round, s.gp, s.round > 0
}

func (s stubResolver) Entrant(season, round, car int) (string, string, bool) {
	e, ok := s.entrant[car]
	return e[0], e[1], ok
}

func TestMapResultsResolvers(t *testing.T) {
	d, _, _ := bahrainData(t)
	archive := stubResolver{round: 1, gp: "Bahrain Grand Prix", entrant: map[int][2]string{
		1:  {"max-verstappen", "red-bull"},
		11: {"sergio-perez", "red-bull"},
	}}
	results, err := MapResults(d, archive)
	if err != nil {
		t.Fatal(err)
	}
	if results[0].TeamID != "red-bull" || results[1].TeamID != "red-bull" {
		t.Errorf("the archive's ids are not used: %s %s", results[0].TeamID, results[1].TeamID)
	}
	if results[2].DriverID != "fernando-alonso" || results[2].TeamID != "aston-martin" {
		t.Errorf("the fallback is not used for cars the archive lacks: %s %s", results[2].DriverID, results[2].TeamID)
	}

	// No round anywhere: an error, not results without a round.
	if _, err := MapResults(d, nil); err == nil || !strings.Contains(err.Error(), "no round") {
		t.Errorf("no resolver: err = %v", err)
	}

	// A car without a driver row nor an archive entry: an error naming it.
	d.Drivers = d.Drivers[1:]
	if _, err := MapResults(d, stubResolver{round: 1}); err == nil || !strings.Contains(err.Error(), "car(s) [1]") {
		t.Errorf("unknown car: err = %v", err)
	}

	// Not a race.
	d.Session.SessionName = "Qualifying"
	if _, err := MapResults(d, archive); err == nil {
		t.Error("qualifying mapped to f1.Results")
	}
}

func TestMapResultsStatuses(t *testing.T) {
	p := func(n int) *int { return &n }
	type row struct {
		car           int
		pos           *int
		laps          int
		dnf, dns, dsq bool
		gap           Gap
		wantStatus    string
		wantPos       *int
		wantTime      string
	}
	tests := []struct {
		name string
		rows []row
		// wantOrder lists cars in classification order.
		wantOrder []int
	}{
		{
			name: "every status",
			rows: []row{
				{car: 9, dsq: true, laps: 50, wantStatus: f1.DSQ},
				{car: 8, dns: true, wantStatus: f1.DNS},
				{car: 7, dnf: true, laps: 10, wantStatus: f1.DNF},
				{car: 6, dnf: true, laps: 30, wantStatus: f1.DNF},
				{car: 5, laps: 40, wantStatus: f1.NC, gap: LapsGap(10), wantTime: "+10 LAPS"},
				{car: 4, pos: p(3), laps: 49, gap: LapsGap(1), wantStatus: f1.Finished, wantPos: p(3), wantTime: "+1 LAP"},
				{car: 3, pos: p(2), laps: 50, gap: SecondsGap(1.5), wantStatus: f1.Finished, wantPos: p(2), wantTime: "+1.500"},
				{car: 1, pos: p(1), laps: 50, gap: SecondsGap(0), wantStatus: f1.Finished, wantPos: p(1), wantTime: "1:30:00.000"},
			},
			wantOrder: []int{1, 3, 4, 5, 6, 7, 8, 9},
		},
		{
			name: "a retired car that covered 90% is classified",
			rows: []row{
				{car: 1, pos: p(1), laps: 57, wantStatus: f1.Finished, wantPos: p(1), wantTime: "1:30:00.000"},
				{car: 2, pos: p(2), laps: 56, dnf: true, gap: LapsGap(1), wantStatus: f1.Finished, wantPos: p(2), wantTime: "+1 LAP"},
				{car: 3, pos: p(3), laps: 51, dnf: true, gap: LapsGap(6), wantStatus: f1.Finished, wantPos: p(3), wantTime: "+6 LAPS"},
				{car: 4, pos: p(4), laps: 50, dnf: true, wantStatus: f1.DNF},
				{car: 5, laps: 56, dnf: true, wantStatus: f1.DNF},
			},
			wantOrder: []int{1, 2, 3, 5, 4},
		},
		{
			name: "a disqualified winner",
			rows: []row{
				{car: 1, laps: 57, dsq: true, wantStatus: f1.DSQ},
				{car: 2, pos: p(1), laps: 57, wantStatus: f1.Finished, wantPos: p(1), wantTime: "1:30:00.000"},
			},
			wantOrder: []int{2, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := SessionData{Session: Session{SessionKey: 1, SessionName: "Race", Year: 2024}}
			for _, r := range tt.rows {
				d.Drivers = append(d.Drivers, Driver{DriverNumber: r.car, FirstName: "Driver", LastName: fmt.Sprint(r.car), TeamName: "Team"})
				dur := Duration{Seconds: 5400, Valid: true}
				d.Results = append(d.Results, SessionResult{DriverNumber: r.car, Position: r.pos, NumberOfLaps: r.laps,
					DNF: r.dnf, DNS: r.dns, DSQ: r.dsq, GapToLeader: r.gap, Duration: dur})
			}
			results, err := MapResults(d, stubResolver{round: 3})
			if err != nil {
				t.Fatal(err)
			}
			var order []int
			byCar := map[int]f1.Result{}
			for _, r := range results {
				order = append(order, r.CarNumber)
				byCar[r.CarNumber] = r
			}
			if fmt.Sprint(order) != fmt.Sprint(tt.wantOrder) {
				t.Errorf("order %v, want %v", order, tt.wantOrder)
			}
			for _, w := range tt.rows {
				r := byCar[w.car]
				if r.Status != w.wantStatus || fmt.Sprint(deref(r.Position)) != fmt.Sprint(deref(w.wantPos)) || r.Time != w.wantTime {
					t.Errorf("car %d: %s P%v %q; want %s P%v %q", w.car, r.Status, deref(r.Position), r.Time,
						w.wantStatus, deref(w.wantPos), w.wantTime)
				}
			}
		})
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestFallbackRounds(t *testing.T) {
	_, meetings, races := bahrainData(t)
	r := NewFallbackResolver(meetings, races, nil)
	tests := []struct {
		name  string
		date  time.Time
		round int
		gp    string
		ok    bool
	}{
		{"Bahrain Grand Prix", time.Date(2023, 3, 4, 15, 0, 0, 0, time.UTC), 1, "Bahrain Grand Prix", true},
		{"Saudi Arabian Grand Prix", time.Date(2023, 3, 19, 17, 0, 0, 0, time.UTC), 2, "Saudi Arabian Grand Prix", true},
		{"", time.Date(2023, 3, 17, 13, 30, 0, 0, time.UTC), 2, "Saudi Arabian Grand Prix", true}, // by date: Friday practice
		{"Pre-Season Testing", time.Date(2023, 2, 23, 7, 0, 0, 0, time.UTC), 0, "", false},
	}
	for _, tt := range tests {
		round, gp, ok := r.Round(2023, tt.date, tt.name)
		if round != tt.round || gp != tt.gp || ok != tt.ok {
			t.Errorf("Round(%q, %v) = %d %q %v; want %d %q %v", tt.name, tt.date, round, gp, ok, tt.round, tt.gp, tt.ok)
		}
	}
	if _, _, ok := r.Round(2024, time.Date(2024, 3, 2, 15, 0, 0, 0, time.UTC), "Bahrain Grand Prix"); ok {
		t.Error("a 2024 round from 2023 data")
	}

	// Without race sessions the meetings that are not testing count.
	r = NewFallbackResolver(meetings, nil, nil)
	if round, _, ok := r.Round(2023, time.Time{}, "Saudi Arabian Grand Prix"); round != 2 || !ok {
		t.Errorf("from meetings alone: round %d %v, want 2", round, ok)
	}
}

func TestSlugify(t *testing.T) {
	tests := map[string]string{
		"Max VERSTAPPEN":    "max-verstappen",
		"Red Bull Racing":   "red-bull-racing",
		"Sergio PÉREZ":      "sergio-perez",
		"Nico Hülkenberg":   "nico-hulkenberg",
		"Kimi Räikkönen":    "kimi-raikkonen",
		"  Haas F1 Team  ":  "haas-f1-team",
		"RB F1 Team":        "rb-f1-team",
		"Oscar O'Piastri":   "oscar-o-piastri",
		"Kick Sauber / C44": "kick-sauber-c44",
		"Jan Magnußen":      "jan-magnussen",
		"Kevin Magnussen ø": "kevin-magnussen-o",
		"":                  "",
	}
	for in, want := range tests {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatRaceTime(t *testing.T) {
	tests := map[float64]string{
		5636.736: "1:33:56.736",
		1815.123: "30:15.123",
		3600:     "1:00:00.000",
		59.9996:  "1:00.000",
	}
	for in, want := range tests {
		if got := FormatRaceTime(in); got != want {
			t.Errorf("FormatRaceTime(%v) = %q, want %q", in, got, want)
		}
	}
}
