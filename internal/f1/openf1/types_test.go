package openf1

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/f1/openf1/openf1test"
)

func TestGapJSON(t *testing.T) {
	tests := []struct {
		in       string
		kind     GapKind
		seconds  float64
		laps     int
		str      string
		marshals string
	}{
		{`20.886`, GapTime, 20.886, 0, "+20.886", `20.886`},
		{`0`, GapTime, 0, 0, "+0.000", `0`},
		{`"+1 LAP"`, GapLaps, 0, 1, "+1 LAP", `"+1 LAP"`},
		{`"+2 LAPS"`, GapLaps, 0, 2, "+2 LAPS", `"+2 LAPS"`},
		{`"+12 laps"`, GapLaps, 0, 12, "+12 LAPS", `"+12 LAPS"`},
		{`"1L"`, GapLaps, 0, 1, "+1 LAP", `"+1 LAP"`},
		{`"+6.924"`, GapTime, 6.924, 0, "+6.924", `6.924`},
		{`"+1:09.473"`, GapTime, 69.473, 0, "+69.473", `69.473`},
		{`null`, GapNone, 0, 0, "", `null`},
		{`""`, GapNone, 0, 0, "", `null`},
		{`"LAP 57"`, GapTextual, 0, 0, "LAP 57", `"LAP 57"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var g Gap
			if err := json.Unmarshal([]byte(tt.in), &g); err != nil {
				t.Fatal(err)
			}
			if g.Kind != tt.kind || g.Seconds != tt.seconds || g.Laps != tt.laps {
				t.Errorf("decoded %+v, want kind %d seconds %v laps %d", g, tt.kind, tt.seconds, tt.laps)
			}
			if s := g.String(); s != tt.str {
				t.Errorf("String() = %q, want %q", s, tt.str)
			}
			b, err := json.Marshal(g)
			if err != nil || string(b) != tt.marshals {
				t.Errorf("Marshal = %s, %v; want %s", b, err, tt.marshals)
			}
		})
	}

	t.Run("qualifying array", func(t *testing.T) {
		var g Gap
		if err := json.Unmarshal([]byte(`[0.512, 0.3, null]`), &g); err != nil {
			t.Fatal(err)
		}
		if len(g.Parts) != 3 || g.Parts[0].Seconds != 0.512 || g.Parts[2].Kind != GapNone {
			t.Errorf("parts = %+v", g.Parts)
		}
		if b, _ := json.Marshal(g); string(b) != `[0.512,0.3,null]` {
			t.Errorf("Marshal = %s", b)
		}
	})

	t.Run("not a gap", func(t *testing.T) {
		var g Gap
		if err := json.Unmarshal([]byte(`{"a":1}`), &g); err == nil {
			t.Error("an object decoded as a gap")
		}
	})
}

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		in    string
		valid bool
		secs  float64
		parts int
	}{
		{`5636.736`, true, 5636.736, 0},
		{`null`, false, 0, 0},
		{`[90.1, 89.708, null]`, false, 0, 3},
	}
	for _, tt := range tests {
		var d Duration
		if err := json.Unmarshal([]byte(tt.in), &d); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if d.Valid != tt.valid || d.Seconds != tt.secs || len(d.Parts) != tt.parts {
			t.Errorf("%s decoded %+v", tt.in, d)
		}
	}
}

func TestColourJSON(t *testing.T) {
	tests := map[string]Colour{
		`"3671C6"`:  "3671C6",
		`"3671c6"`:  "3671C6",
		`"#f58020"`: "F58020",
		`" #F00 "`:  "FF0000",
		`null`:      "",
		`""`:        "",
		`"teal"`:    "teal",
	}
	for in, want := range tests {
		var c Colour
		if err := json.Unmarshal([]byte(in), &c); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if c != want {
			t.Errorf("%s → %q, want %q", in, c, want)
		}
	}
}

func TestTimeJSON(t *testing.T) {
	want := time.Date(2023, 3, 5, 15, 3, 38, 119_000_000, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"2023-03-05T15:03:38.119000+00:00"`, want},
		{`"2023-03-05T18:03:38.119+03:00"`, want},
		{`"2023-03-05T15:03:38.119"`, want},
		{`"2023-03-05T15:03:38.119Z"`, want},
		{`null`, time.Time{}},
	}
	for _, tt := range tests {
		var got Time
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if !got.Equal(tt.want) {
			t.Errorf("%s → %v, want %v", tt.in, got.Time, tt.want)
		}
	}
	var bad Time
	if err := json.Unmarshal([]byte(`"5 March"`), &bad); err == nil {
		t.Error(`"5 March" decoded as a time`)
	}
}

func TestSessionLocalDate(t *testing.T) {
	tests := []struct {
		start, offset, want string
	}{
		{"2023-03-05T15:00:00+00:00", "03:00:00", "2023-03-05"},
		{"2023-11-19T06:00:00+00:00", "-08:00:00", "2023-11-18"}, // Las Vegas: Saturday night local
		{"2023-03-05T22:30:00+00:00", "03:00:00", "2023-03-06"},
		{"2023-03-05T15:00:00+00:00", "", "2023-03-05"},
	}
	for _, tt := range tests {
		var s Session
		if err := json.Unmarshal([]byte(`{"date_start":"`+tt.start+`","gmt_offset":"`+tt.offset+`"}`), &s); err != nil {
			t.Fatal(err)
		}
		if got := s.LocalDate(); got != tt.want {
			t.Errorf("%s %s → %s, want %s", tt.start, tt.offset, got, tt.want)
		}
	}
}

// TestDecodeFixtures decodes every fixture into its type: the shapes and
// quirks of real responses.
func TestDecodeFixtures(t *testing.T) {
	read := func(name string, v any) {
		t.Helper()
		b := openf1test.Fixture(t, openf1test.Bahrain, name+".json")
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var drivers []Driver
	read("drivers", &drivers)
	colours := map[int]Colour{}
	for _, d := range drivers {
		colours[d.DriverNumber] = d.TeamColour
	}
	if colours[1] != "3671C6" || colours[4] != "F58020" || colours[21] != "" {
		t.Errorf("team colours VER %q NOR %q DEV %q", colours[1], colours[4], colours[21])
	}

	var results []SessionResult
	read("session_result", &results)
	byCar := map[int]SessionResult{}
	quali := map[int]SessionResult{}
	for _, r := range results {
		if r.SessionKey == 7953 {
			byCar[r.DriverNumber] = r
		} else {
			quali[r.DriverNumber] = r
		}
	}
	// Qualifying: arrays of Q1, Q2, Q3, null for the parts not run.
	if r := quali[2]; len(r.Duration.Parts) != 3 || r.Duration.Parts[0].Seconds != 92.018 || r.Duration.Parts[1].Valid ||
		r.GapToLeader.String() != "+0.723 /  / " || r.Points != nil {
		t.Errorf("qualifying SAR = %+v", r)
	}
	if r := byCar[2]; r.GapToLeader.Kind != GapLaps || r.GapToLeader.Laps != 1 || *r.Position != 11 {
		t.Errorf("SAR = %+v", r)
	}
	if r := byCar[16]; !r.DNF || r.Position != nil || r.GapToLeader.Kind != GapNone || r.Duration.Valid {
		t.Errorf("LEC = %+v", r)
	}
	if r := byCar[22]; !r.DSQ || r.Position != nil {
		t.Errorf("TSU = %+v", r)
	}

	var ivs []Interval
	read("intervals", &ivs)
	if ivs[4].GapToLeader.String() != "+2 LAPS" || ivs[4].Interval.String() != "+1 LAP" || !ivs[5].GapToLeader.IsZero() {
		t.Errorf("intervals = %+v", ivs)
	}
	var pos []Position
	read("position", &pos)
	if last := pos[len(pos)-1]; last.Position != nil {
		t.Errorf("null position decoded as %d", *last.Position)
	}
	var laps []Lap
	read("laps", &laps)
	if !laps[0].DateStart.IsZero() || laps[0].LapDuration != nil || laps[0].SegmentsSector1[3] != nil {
		t.Errorf("first lap = %+v", laps[0])
	}
	var rc []RaceControl
	read("race_control", &rc)
	if rc[1].Flag != "" || rc[1].DriverNumber != nil || *rc[3].DriverNumber != 16 || *rc[2].Sector != 9 {
		t.Errorf("race control = %+v", rc)
	}
	var ms []Meeting
	read("meetings", &ms)
	var ss []Session
	read("sessions", &ss)
	var grid []StartingGrid
	read("starting_grid", &grid)
	var pits []Pit
	read("pit", &pits)
	if len(ms) != 3 || len(ss) != 4 || len(grid) != 20 || len(pits) != 2 {
		t.Errorf("fixture sizes: %d meetings %d sessions %d grid %d pits", len(ms), len(ss), len(grid), len(pits))
	}
}
