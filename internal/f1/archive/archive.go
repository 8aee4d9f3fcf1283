// Package archive holds the F1 seasons 2019–2025, embedded in the binary,
// as the result and penalty events of package f1: the same shapes the
// OpenF1 source produces, so that a replayed season and a live one feed the
// same topics and the same processor.
//
// The facts come from F1DB (https://github.com/f1db/f1db), licensed under
// CC BY 4.0; see data/NOTICE and data/SOURCE.md. Drivers and constructors
// keep F1DB's ids (max-verstappen, red-bull).
//
// An Archive is read-only once parsed: callers must not modify the rounds,
// sessions and results it returns.
package archive

import (
	"embed"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/f1"
)

// Attribution credits the source of the archive, as its licence requires.
const Attribution = "F1 archive data: F1DB (https://github.com/f1db/f1db), CC BY 4.0"

//go:embed data/*.csv data/NOTICE data/SOURCE.md
var embedded embed.FS

// Data returns the embedded data files (CSV files, NOTICE and SOURCE.md).
func Data() fs.FS {
	sub, _ := fs.Sub(embedded, "data")
	return sub
}

// Load returns the embedded archive, parsed on the first call only.
var Load = sync.OnceValues(func() (*Archive, error) { return Parse(Data()) })

// Archive is the seasons of the embedded F1 archive.
type Archive struct {
	seasons map[int]*Season
	years   []int
	drivers map[string]Driver
	teams   map[string]Team
}

// Season is one championship season.
type Season struct {
	Year int
	// Rounds in calendar order; Rounds[i].Round == i+1.
	Rounds []*Round
	// Penalties are the season's points penalties that are not results.
	Penalties []f1.Penalty
	// Entrants are the season's drivers with their team and car number,
	// test drivers included.
	Entrants []Entrant
}

// Round is one Grand Prix weekend.
type Round struct {
	Season int
	Round  int
	// GrandPrix is the event's name, e.g. "Bahrain Grand Prix";
	// GrandPrixID F1DB's id of the Grand Prix ("bahrain"); Slug the race's
	// id in the season ("sao-paulo").
	GrandPrix    string
	GrandPrixID  string
	Slug         string
	OfficialName string
	CircuitID    string
	Circuit      string
	Country      string
	// Date is race day, YYYY-MM-DD; TimeUTC the start time (HH:MM) when
	// known.
	Date    string
	TimeUTC string
	// HasSprint reports a sprint weekend.
	HasSprint bool
	// Laps run and scheduled in the race and in the sprint (0 if none).
	Laps, ScheduledLaps             int
	SprintLaps, SprintScheduledLaps int
	// Sessions are the scoring sessions in calendar order: the sprint
	// before the race.
	Sessions []*Session
}

// SessionDate returns the day of the round's race or sprint (kind f1.Race
// or f1.Sprint), YYYY-MM-DD. F1DB dates the race; every sprint of the
// archive's seasons ran on the Saturday before a Sunday race (the 2023
// Azerbaijan sprint on 29 April, the race on the 30th).
func (r *Round) SessionDate(kind string) string {
	if kind != f1.Sprint || r.Date == "" {
		return r.Date
	}
	d, err := time.Parse(time.DateOnly, r.Date)
	if err != nil {
		return r.Date
	}
	return d.AddDate(0, 0, -1).Format(time.DateOnly)
}

// Session is the classification of one race or sprint.
type Session struct {
	// Kind is f1.Race or f1.Sprint.
	Kind string
	// PointsScale is the points scale the regulations applied.
	PointsScale string
	// Results in replay order: classified cars from P1 down, then the
	// unclassified ones as the official classification lists them. Each
	// carries its official points (Result.Points, fastest-lap point
	// included) as F1DB records them.
	Results []f1.Result
}

// SessionResults returns a copy of the results of a race or sprint (kind
// f1.Race or f1.Sprint) of the archive, false when it has none: the source
// of last resort of a live follow (openf1.PastResults).
func (a *Archive) SessionResults(season, round int, kind string) ([]f1.Result, bool) {
	rd, ok := a.Round(season, round)
	if !ok {
		return nil, false
	}
	ss, ok := rd.Session(kind)
	if !ok || len(ss.Results) == 0 {
		return nil, false
	}
	return slices.Clone(ss.Results), true
}

// Session returns the round's session of kind (f1.Race or f1.Sprint).
func (r *Round) Session(kind string) (*Session, bool) {
	for _, s := range r.Sessions {
		if s.Kind == kind {
			return s, true
		}
	}
	return nil, false
}

// Entrant is a driver's entry in a season: team and car number.
type Entrant struct {
	Season    int
	DriverID  string
	TeamID    string
	CarNumber int
	// Rounds lists the rounds the driver took part in with this team (in
	// any session); empty for a test driver who never raced.
	Rounds     []int
	TestDriver bool
}

// Driver is a driver of the archive.
type Driver struct {
	ID          string // e.g. "max-verstappen"
	Code        string // e.g. "VER"
	FirstName   string
	LastName    string
	Name        string // first and last name, e.g. "Max Verstappen"
	FullName    string // e.g. "Max Emilian Verstappen"
	Nationality string // F1DB country id, e.g. "netherlands"
	DateOfBirth string // YYYY-MM-DD
}

// Team is a constructor of the archive.
type Team struct {
	ID       string // e.g. "red-bull"
	Name     string // e.g. "Red Bull"
	FullName string // e.g. "Red Bull Racing"
	Country  string // F1DB country id
	// Colour is the team's usual colour as 6 hex digits, "" if unknown.
	Colour string
}

// teamColours are the constructors' usual colours (as OpenF1 and the
// broadcasts use them), 6 hex digits without '#'.
var teamColours = map[string]string{
	"alfa-romeo":   "C92D4B",
	"alphatauri":   "5E8FAA",
	"alpine":       "FF87BC",
	"aston-martin": "229971",
	"ferrari":      "E8002D",
	"haas":         "B6BABD",
	"kick-sauber":  "52E252",
	"mclaren":      "FF8000",
	"mercedes":     "27F4D2",
	"racing-bulls": "6692FF",
	"racing-point": "F596C8",
	"rb":           "6692FF",
	"red-bull":     "3671C6",
	"renault":      "FFF500",
	"toro-rosso":   "469BFF",
	"williams":     "64C4FF",
}

// TeamColour returns the usual colour of constructor id as 6 hex digits,
// or "" when unknown.
func TeamColour(id string) string { return teamColours[id] }

// pointsScales are the sessions that did not pay full points, by season
// and round. Per SOURCE.md only the 2021 Belgian Grand Prix (one lap
// behind the safety car) paid reduced points in 2019–2025: half points and
// no fastest-lap point. The lap count alone does not decide it (Japan 2022
// ran 28 of 53 laps and paid full points).
var pointsScales = map[[2]int]string{
	{2021, 12}: f1.ScaleHalf,
}

// Seasons returns the archive's seasons in order.
func (a *Archive) Seasons() []int { return slices.Clone(a.years) }

// Season returns the season of year.
func (a *Archive) Season(year int) (*Season, bool) {
	s, ok := a.seasons[year]
	return s, ok
}

// Round returns a round of a season.
func (a *Archive) Round(season, round int) (*Round, bool) {
	s, ok := a.seasons[season]
	if !ok || round < 1 || round > len(s.Rounds) {
		return nil, false
	}
	return s.Rounds[round-1], true
}

// RoundOn returns the round whose weekend includes day: from three days
// before race day (practice, qualifying and sprint days) to the day after
// it (a night race's start is the next day in UTC: Las Vegas). Only the
// date of day counts, in UTC.
func (a *Archive) RoundOn(day time.Time) (*Round, bool) {
	d := day.UTC().Format(time.DateOnly)
	s, ok := a.seasons[day.UTC().Year()]
	if !ok {
		return nil, false
	}
	for _, r := range s.Rounds {
		race, err := time.Parse(time.DateOnly, r.Date)
		if err != nil {
			continue
		}
		if d <= race.AddDate(0, 0, 1).Format(time.DateOnly) && d >= race.AddDate(0, 0, -3).Format(time.DateOnly) {
			return r, true
		}
	}
	return nil, false
}

// RoundByGrandPrix returns the round of season whose Grand Prix is name:
// its name ("Bahrain Grand Prix"), its id ("bahrain"), its slug, its
// official name, its circuit id or its country id, ignoring case.
func (a *Archive) RoundByGrandPrix(season int, name string) (*Round, bool) {
	s, ok := a.seasons[season]
	if !ok {
		return nil, false
	}
	name = strings.TrimSpace(name)
	for _, match := range []func(r *Round) string{
		func(r *Round) string { return r.GrandPrix },
		func(r *Round) string { return r.GrandPrixID },
		func(r *Round) string { return r.Slug },
		func(r *Round) string { return r.OfficialName },
		func(r *Round) string { return r.CircuitID },
		func(r *Round) string { return r.Country },
	} {
		var found *Round
		n := 0
		for _, r := range s.Rounds {
			if strings.EqualFold(match(r), name) {
				found = r
				n++
			}
		}
		if n == 1 {
			return found, true
		}
	}
	return nil, false
}

// Entrant returns the driver and team that raced car carNumber in season.
// When the car changed hands or teams during the season (Lawson and
// Tsunoda swapped teams in 2025) it returns the entry of the latest round;
// use EntrantAt to know the entry of a given round. Test drivers count only
// when no race driver had the number.
func (a *Archive) Entrant(season, carNumber int) (driverID, teamID string, ok bool) {
	s, found := a.seasons[season]
	if !found {
		return "", "", false
	}
	var best *Entrant
	last := -1
	for i := range s.Entrants {
		e := &s.Entrants[i]
		if e.CarNumber != carNumber || len(e.Rounds) == 0 {
			continue
		}
		if l := e.Rounds[len(e.Rounds)-1]; l > last {
			best, last = e, l
		}
	}
	if best == nil {
		// A test driver who never raced, if the number is theirs alone.
		for i := range s.Entrants {
			e := &s.Entrants[i]
			if e.CarNumber == carNumber {
				if best != nil {
					return "", "", false
				}
				best = e
			}
		}
	}
	if best == nil {
		return "", "", false
	}
	return best.DriverID, best.TeamID, true
}

// EntrantAt returns the entry that raced car carNumber in a round of
// season.
func (a *Archive) EntrantAt(season, round, carNumber int) (Entrant, bool) {
	s, found := a.seasons[season]
	if !found {
		return Entrant{}, false
	}
	for _, e := range s.Entrants {
		if e.CarNumber == carNumber && slices.Contains(e.Rounds, round) {
			return e, true
		}
	}
	return Entrant{}, false
}

// Driver returns a driver by id.
func (a *Archive) Driver(id string) (Driver, bool) {
	d, ok := a.drivers[id]
	return d, ok
}

// Team returns a constructor by id.
func (a *Archive) Team(id string) (Team, bool) {
	t, ok := a.teams[id]
	return t, ok
}

// Calendar returns the season's calendar: its rounds, sprint weekends
// marked.
func (s *Season) Calendar() f1.Calendar {
	c := f1.Calendar{Season: s.Year}
	for _, r := range s.Rounds {
		c.Rounds = append(c.Rounds, f1.CalendarRound{Round: r.Round, GrandPrix: r.GrandPrix, Sprint: r.HasSprint})
	}
	return c
}

// Results returns the season's results of rounds from to to (inclusive)
// in replay order: rounds in calendar order, within a round the sprint
// before the race, within a session the cars in classification order.
func (s *Season) Results(from, to int) []f1.Result {
	var out []f1.Result
	for _, r := range s.Rounds {
		if r.Round < from || r.Round > to {
			continue
		}
		for _, ss := range r.Sessions {
			out = append(out, ss.Results...)
		}
	}
	return out
}
