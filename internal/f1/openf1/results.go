package openf1

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/f1"
)

// OpenF1's session_name of the sessions that score points: the only ones
// whose results are f1.Results.
const (
	SessionNameRace   = "Race"
	SessionNameSprint = "Sprint"
)

// SessionKind returns podium's kind of an OpenF1 session: f1.Race for
// "Race", f1.Sprint for "Sprint"; ok=false for sessions whose results are
// not f1.Results (practice, qualifying, sprint qualifying).
func SessionKind(sessionName string) (kind string, ok bool) {
	switch strings.TrimSpace(sessionName) {
	case SessionNameRace:
		return f1.Race, true
	case SessionNameSprint:
		return f1.Sprint, true
	}
	return "", false
}

// sessionLabel names any session in live updates: the f1 kind for races
// and sprints, else the upper-cased name ("QUALIFYING", "PRACTICE_1").
func sessionLabel(sessionName string) string {
	if k, ok := SessionKind(sessionName); ok {
		return k
	}
	return strings.ToUpper(strings.Join(strings.Fields(sessionName), "_"))
}

// Identity is where an OpenF1 session sits in podium: season, round and
// session, plus OpenF1's keys.
type Identity struct {
	Season     int
	Round      int // 0 when the resolver does not know the weekend (testing)
	GrandPrix  string
	Session    string // f1.Race, f1.Sprint, or e.g. "QUALIFYING"
	SessionKey int
	MeetingKey int
	Date       string // the session's local date, YYYY-MM-DD
}

// ResolveIdentity places session s (of meeting m, which may be zero) with
// r. ok is false when r does not know the round.
func ResolveIdentity(r Resolver, s Session, m Meeting) (Identity, bool) {
	id := Identity{
		Season:     s.Year,
		Session:    sessionLabel(s.SessionName),
		SessionKey: s.SessionKey,
		MeetingKey: s.MeetingKey,
		Date:       s.LocalDate(),
		GrandPrix:  m.MeetingName,
	}
	if id.Season == 0 && !s.DateStart.IsZero() {
		id.Season = s.DateStart.Year()
	}
	if r == nil {
		return id, false
	}
	round, gp, ok := r.Round(id.Season, s.DateStart.Time, m.MeetingName)
	if !ok {
		return id, false
	}
	id.Round = round
	if gp != "" {
		id.GrandPrix = gp
	}
	return id, true
}

// SessionData is what OpenF1 says about one session, as MapResults needs it.
type SessionData struct {
	Session Session
	Meeting Meeting // for the Grand Prix name; may be zero
	Drivers []Driver
	Results []SessionResult
	Grid    []StartingGrid // optional: Result.Grid
	// Source is the f1.Source… constant the results are tagged with,
	// default f1.SourceOpenF1REST.
	Source string
}

// ErrNotResults is returned by MapResults for sessions that are not a race
// or a sprint.
var ErrNotResults = errors.New("openf1: session is not a race or a sprint")

// MapResults turns a race's or sprint's session_result rows into podium
// results, in classification order: classified cars by position, then the
// unclassified (NC, DNF, DNS, DSQ). The round and the archive ids come from
// r, with the FallbackResolver's slugs of d.Drivers as a last resort for
// the ids.
//
// Status follows OpenF1's flags: dsq → DSQ, dns → DNS, dnf → DNF, a
// position → Finished, else NC. A car flagged dnf that has a position and
// covered 90% of the winner's laps (rounded down) is classified, as the
// sporting regulations say, and so is Finished.
//
// OpenF1's points are the official figure: they become Result.Points,
// which wins over the points derived from the position. OpenF1 does not say
// when a shortened race pays reduced points, so PointsScale is always
// f1.ScaleFull; the official points carry the reduction. The fastest lap is
// never derived from lap times, which may be incomplete (a lap OpenF1 has
// not received, a lap time deleted by the stewards): a car holds it only
// when its official points prove it, i.e. they exceed the points of its
// position by exactly the season's fastest-lap point. Results with
// official points are FastestLapOfficial; without them they are not, and
// the processor flags the race provisional.
func MapResults(d SessionData, r Resolver) ([]f1.Result, error) {
	if _, ok := SessionKind(d.Session.SessionName); !ok {
		return nil, fmt.Errorf("%w: session %d is %q", ErrNotResults, d.Session.SessionKey, d.Session.SessionName)
	}
	rs := Resolvers{r, NewFallbackResolver(nil, nil, d.Drivers)}
	id, ok := ResolveIdentity(rs, d.Session, d.Meeting)
	if !ok {
		return nil, fmt.Errorf("openf1: no round for session %d (%s, %s %d)",
			d.Session.SessionKey, d.Session.SessionName, d.Meeting.MeetingName, d.Session.Year)
	}
	return mapResults(id, d, rs)
}

// classified groups, in classification order.
const (
	groupFinished = iota
	groupNC
	groupDNF
	groupDNS
	groupDSQ
)

type classified struct {
	sr     SessionResult
	status string
	group  int
}

func mapResults(id Identity, d SessionData, r Resolver) ([]f1.Result, error) {
	drivers := make(map[int]Driver, len(d.Drivers))
	for _, dr := range d.Drivers {
		drivers[dr.DriverNumber] = dr
	}
	grid := make(map[int]*int, len(d.Grid))
	for _, g := range d.Grid {
		if g.Position != nil {
			p := *g.Position
			grid[g.DriverNumber] = &p
		}
	}

	// The winner's laps decide whether a retired car is classified.
	winnerLaps := 0
	for _, sr := range d.Results {
		if sr.Position != nil && *sr.Position == 1 && !sr.DSQ {
			winnerLaps = sr.NumberOfLaps
		}
	}
	if winnerLaps == 0 {
		for _, sr := range d.Results {
			winnerLaps = max(winnerLaps, sr.NumberOfLaps)
		}
	}
	minLaps := int(math.Floor(0.9 * float64(winnerLaps)))

	rows := make([]classified, 0, len(d.Results))
	seen := map[int]bool{}
	for _, sr := range d.Results {
		if sr.DriverNumber < 1 || seen[sr.DriverNumber] {
			continue // a car appears once; OpenF1 never repeats one
		}
		seen[sr.DriverNumber] = true
		c := classified{sr: sr}
		hasPos := sr.Position != nil && *sr.Position >= 1
		switch {
		case sr.DSQ:
			c.status, c.group = f1.DSQ, groupDSQ
		case sr.DNS:
			c.status, c.group = f1.DNS, groupDNS
		case sr.DNF && hasPos && winnerLaps > 0 && sr.NumberOfLaps >= minLaps:
			c.status, c.group = f1.Finished, groupFinished
		case sr.DNF:
			c.status, c.group = f1.DNF, groupDNF
		case hasPos:
			c.status, c.group = f1.Finished, groupFinished
		default:
			c.status, c.group = f1.NC, groupNC
		}
		rows = append(rows, c)
	}
	slices.SortStableFunc(rows, func(a, b classified) int {
		if c := cmp.Compare(a.group, b.group); c != 0 {
			return c
		}
		if a.group == groupFinished {
			if c := cmp.Compare(*a.sr.Position, *b.sr.Position); c != 0 {
				return c
			}
		}
		if a.group != groupDNS {
			if c := cmp.Compare(b.sr.NumberOfLaps, a.sr.NumberOfLaps); c != 0 {
				return c // more laps first
			}
			if c := cmp.Compare(posOrMax(a.sr.Position), posOrMax(b.sr.Position)); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.sr.DriverNumber, b.sr.DriverNumber)
	})

	source := cmp.Or(d.Source, f1.SourceOpenF1REST)
	out := make([]f1.Result, 0, len(rows))
	var unknown []int
	for i, c := range rows {
		dr := drivers[c.sr.DriverNumber]
		driverID, teamID, ok := r.Entrant(id.Season, id.Round, c.sr.DriverNumber)
		if !ok {
			unknown = append(unknown, c.sr.DriverNumber)
			continue
		}
		res := f1.Result{
			Season:      id.Season,
			Round:       id.Round,
			Session:     id.Session,
			SessionKey:  id.SessionKey,
			GrandPrix:   id.GrandPrix,
			Date:        id.Date,
			PointsScale: f1.ScaleFull,
			CarNumber:   c.sr.DriverNumber,
			DriverID:    driverID,
			DriverCode:  dr.NameAcronym,
			DriverName:  dr.Name(),
			TeamID:      teamID,
			TeamName:    dr.TeamName,
			TeamColour:  string(dr.TeamColour),
			HeadshotURL: dr.HeadshotURL,
			Status:      c.status,
			Order:       i + 1,
			Laps:        c.sr.NumberOfLaps,
			Grid:        grid[c.sr.DriverNumber],
			Cars:        len(rows),
			Source:      source,
		}
		if c.status == f1.Finished {
			p := *c.sr.Position
			res.Position = &p
		}
		if c.sr.Points != nil && !math.IsNaN(*c.sr.Points) && !math.IsInf(*c.sr.Points, 0) {
			pts := *c.sr.Points
			res.Points = &pts
			// Official points settle the fastest-lap point: the car that
			// holds it has it in its points, and no other car does.
			res.FastestLap, res.FastestLapOfficial = officialFastestLap(res), true
		}
		res.Time = resultTime(c)
		if err := res.Validate(); err != nil {
			return nil, fmt.Errorf("openf1: result of car %d in session %d: %w", c.sr.DriverNumber, id.SessionKey, err)
		}
		out = append(out, res)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("openf1: session %d: no driver or team id for car(s) %v", id.SessionKey, unknown)
	}
	return out, nil
}

// resultTime is the winner's race time or the gap as printed, empty for
// cars that did not finish.
func resultTime(c classified) string {
	if c.status != f1.Finished && c.status != f1.NC {
		return ""
	}
	g := c.sr.GapToLeader
	winner := c.sr.Position != nil && *c.sr.Position == 1
	if (winner || (g.Kind == GapTime && g.Seconds == 0)) && c.sr.Duration.Valid {
		return FormatRaceTime(c.sr.Duration.Seconds)
	}
	if g.Parts != nil {
		return ""
	}
	return g.String()
}

// FormatRaceTime prints a race time in seconds as "1:33:56.736" (or
// "30:15.123" under an hour).
func FormatRaceTime(seconds float64) string {
	ms := int64(math.Round(seconds * 1000))
	d := time.Duration(ms) * time.Millisecond
	h := int64(d / time.Hour)
	m := int64(d % time.Hour / time.Minute)
	s := float64(d%time.Minute) / float64(time.Second)
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%06.3f", h, m, s)
	}
	return fmt.Sprintf("%d:%06.3f", m, s)
}

// officialFastestLap reports whether r's official points prove that its
// driver set the fastest lap: they are the points of its position plus the
// season's fastest-lap point.
func officialFastestLap(r f1.Result) bool {
	s, err := f1.Rules(r.Season)
	if err != nil || r.Points == nil || s.FastestLap <= 0 || r.Session != f1.Race {
		return false
	}
	r.FastestLap = false
	return *r.Points == f1.Points(r, s)+s.FastestLap
}

func posOrMax(p *int) int {
	if p == nil {
		return math.MaxInt
	}
	return *p
}
