package dashboard

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/openf1"
)

func TestNiceScale(t *testing.T) {
	for _, tc := range []struct {
		max, step, top float64
	}{
		{0, 1, 5}, {3, 1, 3}, {26, 10, 30}, {395.5, 100, 400}, {613.5, 200, 800}, {44, 10, 50}, {101, 50, 150},
	} {
		step, top := niceScale(tc.max)
		if step != tc.step || top != tc.top {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", tc.max, step, top, tc.step, tc.top)
		}
	}
}

func TestLineChart(t *testing.T) {
	ss := []series{
		{label: "VER", name: "Max Verstappen", colour: "3671C6", values: []float64{25, 43, 69}},
		{label: "PER", name: "Sergio Pérez", colour: "3671C6", dashed: true, values: []float64{18, 44, 54}},
		{label: "ALO", name: "Fernando Alonso", colour: "229971", values: []float64{15, 30, 45}},
	}
	c := lineChart("c", "Points", "desc", "Round", "Points", []string{"1", "2", "3"}, ss, 560, 300)
	if len(c.Lines) != 3 || len(c.XTicks) != 3 {
		t.Fatalf("lines %d, x ticks %d; want 3 and 3", len(c.Lines), len(c.XTicks))
	}
	if got := c.Lines[0].Points; got != "44,186 281,135.6 518,62.8" {
		t.Errorf("points of VER = %q", got)
	}
	// Room on the right for the longest end label, and no more.
	long := lineChart("c", "t", "d", "Round", "Points", []string{"1"}, []series{{label: "Mercedes", values: []float64{1}}}, 560, 300)
	if room := float64(long.Width) - long.Right; room != endLabelX+8*endLabelChar+4 || c.Right <= long.Right {
		t.Errorf("room for the end labels: %v for Mercedes, %v for VER", room, float64(c.Width)-c.Right)
	}
	if c.YTicks[0].Label != "0" || c.YTicks[len(c.YTicks)-1].Label != "80" {
		t.Errorf("y ticks %v: want 0 to 80", c.YTicks)
	}
	// End labels never overlap.
	for i, a := range c.Lines {
		for _, b := range c.Lines[i+1:] {
			if d := a.EndY - b.EndY; d > -labelGap+0.1 && d < labelGap-0.1 {
				t.Errorf("labels %s (y %v) and %s (y %v) overlap", a.Label, a.EndY, b.Label, b.EndY)
			}
		}
	}
	if c.Lines[1].Value != "54" || !c.Lines[1].Dashed {
		t.Errorf("PER line = %+v", c.Lines[1])
	}
	// Many rounds: at most 12 x labels, the last one always.
	xs := make([]string, 24)
	vals := make([]float64, 24)
	for i := range xs {
		xs[i], vals[i] = fmt.Sprint(i+1), float64(10*i)
	}
	c = lineChart("c", "t", "d", "x", "y", xs, []series{{values: vals}}, 560, 300)
	if n := len(c.XTicks); n > 12 || c.XTicks[n-1].Label != "24" {
		t.Errorf("x ticks of 24 rounds: %v", c.XTicks)
	}
	c = lineChart("c", "t", "d", "x", "y", xs, []series{{values: vals}}, 360, 260)
	if n := len(c.XTicks); n > 7 || c.XTicks[n-1].Label != "24" {
		t.Errorf("x ticks of 24 rounds: %v", c.XTicks)
	}
	// No data: no lines.
	if c := lineCharts("c", "t", "d", "x", "y", nil, nil); len(c.Wide.Lines) != 0 || len(c.Narrow.Lines) != 0 {
		t.Errorf("empty chart has lines: %+v", c)
	}
}

func TestHelpers(t *testing.T) {
	for in, want := range map[string]string{"Max Verstappen": "MV", "Carlos Sainz Jr.": "CJ", "Zhou": "ZH",
		"Guanyu Zhou": "GZ", "": "?", "jean-éric vergne": "JV"} {
		if got := initials(in); got != want {
			t.Errorf("initials(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]bool{"FFF500": true, "27F4D2": true, "3671C6": false, "E8002D": false, "": false, "zzzzzz": false} {
		if got := lightColour(in); got != want {
			t.Errorf("lightColour(%q) = %v, want %v", in, got, want)
		}
	}
	p := func(n int) *int { return &n }
	for _, tc := range []struct {
		r    f1.ScoredResult
		want string
	}{
		{f1.ScoredResult{Result: f1.Result{Time: "+1 lap", Laps: 57}}, "+1 LAP"},
		{f1.ScoredResult{Result: f1.Result{Time: "+3 Laps", Laps: 55}}, "+3 LAPS"},
		{f1.ScoredResult{Result: f1.Result{Time: "+20.886", Laps: 58}}, "+20.886"},
		{f1.ScoredResult{Result: f1.Result{Laps: 56, Position: p(17)}}, "+2 LAPS"}, // derived from the leader's 58
		{f1.ScoredResult{Result: f1.Result{Laps: 58, Position: p(2)}}, ""},
	} {
		if got := gapText(tc.r, 58); got != tc.want {
			t.Errorf("gapText(%+v) = %q, want %q", tc.r.Result, got, tc.want)
		}
	}
	if got := lapTime(92.345); got != "1:32.345" {
		t.Errorf("lapTime = %q", got)
	}
	if got := shortName("Alfa Romeo Racing ORLEN"); got != "Alfa" {
		t.Errorf("shortName = %q", got)
	}
}

func TestLive(t *testing.T) {
	now := time.Date(2024, 3, 2, 15, 30, 0, 0, time.UTC)
	l := NewLive()
	l.now = func() time.Time { return now }
	at := now.Add(-time.Minute)
	pos := func(car, p int, at time.Time) openf1.LiveUpdate {
		return openf1.LiveUpdate{Kind: openf1.KindPosition, Season: 2024, Round: 1, Session: f1.Race, DriverNumber: car, Position: &p, Date: at}
	}
	lapsGap := openf1.LapsGap(1)
	for _, tc := range []struct {
		u       openf1.LiveUpdate
		changed bool
	}{
		{pos(1, 1, at), true},
		{pos(16, 2, at), true},
		{pos(55, 3, at), true},
		{pos(16, 3, at.Add(time.Second)), true},
		{pos(55, 2, at.Add(time.Second)), true},
		{pos(55, 5, at.Add(-time.Second)), false}, // older than what it has
		{openf1.LiveUpdate{Kind: openf1.KindInterval, Season: 2024, Round: 1, Session: f1.Race, DriverNumber: 2, GapToLeader: &lapsGap}, true},
		{openf1.LiveUpdate{Kind: openf1.KindPit, Season: 2024, Round: 1, Session: f1.Race, DriverNumber: 1, LapNumber: 17}, true},
		{openf1.LiveUpdate{Kind: openf1.KindPit, Season: 2024, Round: 1, Session: f1.Race, DriverNumber: 1, LapNumber: 17}, true},
		{openf1.LiveUpdate{Kind: openf1.KindRaceControl, Season: 2024, Round: 1, Session: f1.Race, Message: "GREEN LIGHT", Flag: "GREEN", Date: at}, true},
		{openf1.LiveUpdate{Kind: openf1.KindRaceControl, Season: 2024, Round: 1, Session: f1.Race, Message: "GREEN LIGHT", Flag: "GREEN", Date: at}, false},
		{openf1.LiveUpdate{Kind: openf1.KindRaceControl, Season: 2024, Round: 1, Session: f1.Race, Message: "CHEQUERED FLAG", Date: at.Add(time.Hour)}, true},
		{openf1.LiveUpdate{Kind: openf1.KindPosition, Season: 2024, Round: 0, Session: f1.Race, DriverNumber: 1}, false},      // testing
		{openf1.LiveUpdate{Kind: openf1.KindPosition, Season: 2024, Round: 1, Session: "QUALIFYING", DriverNumber: 1}, false}, // not a race
	} {
		if got := l.Apply(tc.u); got != tc.changed {
			t.Errorf("Apply(%s car %d) = %v, want %v", tc.u.Kind, tc.u.DriverNumber, got, tc.changed)
		}
	}
	id := SessionID{Season: 2024, Round: 1, Session: f1.Race}
	snap, ok := l.Snapshot(id)
	if !ok {
		t.Fatal("no snapshot")
	}
	var order []string
	for _, c := range snap.Cars {
		order = append(order, fmt.Sprintf("%d:P%d", c.Number, c.Position))
	}
	if got := strings.Join(order, " "); got != "1:P1 55:P2 16:P3 2:P0" {
		t.Errorf("running order %s", got)
	}
	if snap.Cars[0].Pits != 1 || snap.Cars[3].GapToLeader != "+1 LAP" {
		t.Errorf("cars %+v", snap.Cars)
	}
	if len(snap.Control) != 2 || snap.Control[0].Message != "CHEQUERED FLAG" {
		t.Errorf("race control %+v: want the 2 messages, latest first", snap.Control)
	}
	if got, ok := l.Active(); !ok || got != id {
		t.Errorf("Active() = %v, %v", got, ok)
	}
	now = now.Add(time.Hour)
	if _, ok := l.Active(); ok {
		t.Error("a session quiet for an hour is still active")
	}
	// Old sessions go beyond the limit.
	for r := 2; r <= maxLiveSessions+3; r++ {
		now = now.Add(time.Second)
		u := pos(1, 1, now)
		u.Round = r
		l.Apply(u)
	}
	if n := len(l.Sessions()); n != maxLiveSessions {
		t.Errorf("%d sessions kept, want %d", n, maxLiveSessions)
	}
	if _, ok := l.Snapshot(id); ok {
		t.Error("the oldest session was kept")
	}
	var nilLive *Live
	if _, ok := nilLive.Active(); ok || nilLive.Sessions() != nil {
		t.Error("a nil Live has sessions")
	}
}
