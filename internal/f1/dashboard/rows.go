package dashboard

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/podiumhq/podium/internal/f1"
)

// resultRow is one line of a classification.
type resultRow struct {
	// Pos is the classified position, "" when not classified.
	Pos        string
	DriverID   string
	Name, Code string
	Team       string
	Colour     string
	Car        int
	Laps       int
	// Gap is the winner's time, the gap to the winner ("+20.886",
	// "+1 LAP"), or "" for a car not classified.
	Gap string
	// Status is the badge of a car not classified (DNF, DNS, DSQ, NC), ""
	// for a classified one; StatusTitle spells it out.
	Status, StatusTitle string
	// Reason is why the car retired or was disqualified, "" if unknown;
	// the page shows it for a car not classified.
	Reason     string
	Points     string
	Scored     bool
	FastestLap bool
	// Mismatch explains an official points figure that differs from the
	// rules' ("" when they agree or there is no official figure).
	Mismatch string
	Grid     string
}

// gapText prints a result's time as the classification does: the winner's
// time, "+20.886", "+1 LAP", "+2 LAPS". With no time printed it derives
// the laps down from the leader's laps.
func gapText(r f1.ScoredResult, leaderLaps int) string {
	t := strings.TrimSpace(r.Time)
	if n, ok := f1.ParseGapLaps(t); ok {
		return f1.FormatGapLaps(n)
	}
	if t != "" {
		return t
	}
	if leaderLaps > r.Laps && r.Laps > 0 {
		return f1.FormatGapLaps(leaderLaps - r.Laps)
	}
	return ""
}

var statusTitles = map[string]string{
	f1.DNF: "Did not finish",
	f1.DNS: "Did not start",
	f1.DSQ: "Disqualified",
	f1.NC:  "Not classified",
}

// resultRows turns a classification into table rows.
func resultRows(rs []f1.ScoredResult) []resultRow {
	leaderLaps := 0
	for _, r := range rs {
		if r.Position != nil && *r.Position == 1 {
			leaderLaps = r.Laps
		}
	}
	out := make([]resultRow, 0, len(rs))
	for _, r := range rs {
		row := resultRow{DriverID: r.DriverID, Name: r.DriverName, Code: r.DriverCode, Team: r.TeamName,
			Colour: r.TeamColour, Car: r.CarNumber, Laps: r.Laps, Points: formatPoints(r.Points),
			Scored: r.Points != 0, FastestLap: r.FastestLap, Reason: r.Reason}
		if r.PointsMismatch() {
			row.Mismatch = fmt.Sprintf("Official points %s; the season's rules give %s", formatPoints(r.Points), formatPoints(r.DerivedPoints))
		}
		if r.Grid != nil {
			row.Grid = strconv.Itoa(*r.Grid)
		} else {
			row.Grid = "PL"
		}
		if r.Status == f1.Finished && r.Position != nil {
			row.Pos = strconv.Itoa(*r.Position)
			row.Gap = gapText(r, leaderLaps)
		} else {
			row.Status, row.StatusTitle = r.Status, statusTitles[r.Status]
		}
		out = append(out, row)
	}
	return out
}

// standingRow is one line of a championship table.
type standingRow struct {
	Season int
	Pos    int
	// ID is the driver's or the constructor's id; Code the driver's code
	// ("" for a constructor).
	ID, Name, Code string
	Team, Colour   string
	Points         string
	// Gap is the points behind the leader, "" for the leader.
	Gap string
	// RoundPoints is what the round added, "" when nothing.
	RoundPoints   string
	Wins, Podiums int
	// WinRate is wins per race started (drivers) or held (constructors).
	WinRate string
}

func winRate(wins, races int) string {
	if races == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(wins)/float64(races))
}

func gapTo(leader, v float64) string {
	if leader == v {
		return ""
	}
	return "−" + formatPoints(leader-v)
}

func roundPoints(v float64) string {
	if v == 0 {
		return ""
	}
	if v > 0 {
		return "+" + formatPoints(v)
	}
	return "−" + formatPoints(-v)
}

// driverRows turns drivers' standings into rows; starts counts the races
// each driver started (nil leaves the win rate out).
func driverRows(ds []f1.DriverStanding, starts map[string]int) []standingRow {
	out := make([]standingRow, 0, len(ds))
	for _, d := range ds {
		row := standingRow{Season: d.Season, Pos: d.Position, ID: d.DriverID, Name: d.DriverName, Code: d.DriverCode, Team: d.TeamName,
			Colour: d.TeamColour, Points: formatPoints(d.Points), Gap: gapTo(ds[0].Points, d.Points),
			RoundPoints: roundPoints(d.RoundPoints), Wins: d.Wins, Podiums: d.Podiums}
		if starts != nil {
			row.WinRate = winRate(d.Wins, starts[d.DriverID])
		}
		out = append(out, row)
	}
	return out
}

// teamRows turns constructors' standings into rows; races is the number
// of races held (0 leaves the win rate out).
func teamRows(cs []f1.ConstructorStanding, races int) []standingRow {
	out := make([]standingRow, 0, len(cs))
	for _, c := range cs {
		row := standingRow{Season: c.Season, Pos: c.Position, ID: c.TeamID, Name: c.TeamName, Team: c.TeamName, Colour: c.TeamColour,
			Points: formatPoints(c.Points), Gap: gapTo(cs[0].Points, c.Points), RoundPoints: roundPoints(c.RoundPoints),
			Wins: c.Wins, Podiums: c.Podiums}
		if races > 0 {
			row.WinRate = winRate(c.Wins, races)
		}
		out = append(out, row)
	}
	return out
}

// standingsTable is a championship table for the "standings" template.
type standingsTable struct {
	// ID is the table's element id.
	ID string
	// Drivers is true for the drivers' championship, false for the
	// constructors'.
	Drivers bool
	// WinRate shows the win rate column; Compact leaves out the team and
	// podiums columns.
	WinRate, Compact bool
	Rows             []standingRow
}
