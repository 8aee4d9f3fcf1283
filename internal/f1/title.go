package f1

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Calendar is a season's schedule of Grand Prix weekends, sprint weekends
// marked: with the season's rules, it tells how many points are still to
// be won.
type Calendar struct {
	Season int
	Rounds []CalendarRound
}

// CalendarRound is one weekend of a Calendar.
type CalendarRound struct {
	Round     int
	GrandPrix string
	// Sprint reports a sprint weekend: a sprint before the race.
	Sprint bool
}

// sessions lists the calendar's scoring sessions in order: (round, kind).
func (c Calendar) sessions() []calendarSession {
	var out []calendarSession
	for _, r := range c.Rounds {
		if r.Sprint {
			out = append(out, calendarSession{r.Round, Sprint})
		}
		out = append(out, calendarSession{r.Round, Race})
	}
	return out
}

type calendarSession struct {
	round int
	kind  string
}

func (s calendarSession) after(round int, kind string) bool {
	return s.round > round || (s.round == round && sessionRank(s.kind) > sessionRank(kind))
}

// ErrNoCalendar is returned by Contention for a season whose calendar is
// not known.
var ErrNoCalendar = errors.New("the season's calendar is not known")

// TitleRace is where both championships stand after one session, with the
// maths of the title: who can still win it, what they need, and when it
// was clinched.
//
// The rule, for drivers and constructors alike: a competitor can still
// finish ahead of a rival when the points it can still score (MaxLeft:
// every remaining race won with the fastest-lap point where the season has
// one, every remaining sprint won; a constructor's two cars first and
// second) exceed the rival's lead, or equal it and countback — Grand Prix
// wins, then second places and so on, sprints not counted — would rank it
// ahead, the rival scoring nothing more: its winning every remaining race
// adds that many wins (and, for a constructor, as many second places) to
// its record, while the rival's finishes stay as they are. Countback level
// to the last place leaves the FIA to decide: the title is still open. A
// competitor is in contention while it can finish ahead of every rival,
// and the leader has clinched the title when no rival can finish ahead of
// it. Future races are counted at full points; points penalties not yet
// decided cannot be foreseen.
type TitleRace struct {
	Season int `json:"season"`
	// Round and Session are the last session counted; GrandPrix its name.
	Round     int    `json:"round"`
	Session   string `json:"session"`
	GrandPrix string `json:"grand_prix"`
	// RacesLeft and SprintsLeft are the calendar's sessions still to run.
	RacesLeft   int `json:"races_left"`
	SprintsLeft int `json:"sprints_left"`
	// FastestLapPoint reports that the remaining races pay a fastest-lap
	// point.
	FastestLapPoint bool `json:"fastest_lap_point"`
	// DriverMaxLeft and ConstructorMaxLeft are the most points one driver
	// and one constructor can still score.
	DriverMaxLeft      float64 `json:"driver_max_left"`
	ConstructorMaxLeft float64 `json:"constructor_max_left"`
	// Drivers and Constructors are the championships, in order.
	Drivers      []Contender `json:"drivers"`
	Constructors []Contender `json:"constructors"`
	// DriverTitle and ConstructorTitle tell when each title was clinched,
	// nil while it is open.
	DriverTitle      *Clinch `json:"driver_title"`
	ConstructorTitle *Clinch `json:"constructor_title"`
}

// Contender is a driver's or constructor's place in the title race.
type Contender struct {
	Position int     `json:"position"`
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Code     string  `json:"code,omitempty"` // a driver's code
	Colour   string  `json:"team_colour,omitempty"`
	Points   float64 `json:"points"`
	// MaxPoints is the most it can still finish the season on: Points and
	// everything still available.
	MaxPoints float64 `json:"max_points"`
	// InContention reports that it can still win the title.
	InContention bool `json:"in_contention"`
	// Needed is the points it must still score to be champion whatever its
	// rivals do: more than any rival's MaxPoints (a tie would go to
	// countback). 0 once the title is clinched; nil when out of contention
	// or when its own results cannot suffice (it needs rivals to drop
	// points).
	Needed *float64 `json:"needed"`
	// Champion reports the competitor that clinched the title.
	Champion bool `json:"champion"`
}

// Clinch is when a title was decided.
type Clinch struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Round     int    `json:"round"`
	Session   string `json:"session"`
	GrandPrix string `json:"grand_prix"`
}

// TitleMaths returns the title race after each session of cal's season
// that has results (in order): see TitleRace for the rule. Results of
// rounds the calendar does not have are an error.
func TitleMaths(cal Calendar, results []ScoredResult, penalties []Penalty) ([]TitleRace, error) {
	rules, err := Rules(cal.Season)
	if err != nil {
		return nil, err
	}
	known := map[int]string{}
	for _, r := range cal.Rounds {
		known[r.Round] = r.GrandPrix
	}
	for _, r := range results {
		if _, ok := known[r.Round]; !ok && r.Season == cal.Season {
			return nil, fmt.Errorf("result %s: the calendar of %d has no round %d", r.Key(), cal.Season, r.Round)
		}
	}
	sessions := cal.sessions()
	var out []TitleRace
	var driverTitle, teamTitle *Clinch
	walkSeason(cal.Season, results, penalties, func(st step) {
		tr := TitleRace{Season: cal.Season, Round: st.round, Session: st.session, GrandPrix: known[st.round]}
		for _, s := range sessions {
			if !s.after(st.round, st.session) {
				continue
			}
			if s.kind == Sprint {
				tr.SprintsLeft++
			} else {
				tr.RacesLeft++
			}
			tr.DriverMaxLeft += rules.MaxPoints(s.kind, 1)
			tr.ConstructorMaxLeft += rules.MaxPoints(s.kind, 2)
		}
		tr.FastestLapPoint = tr.RacesLeft > 0 && rules.hasFastestLapPoint(Race, ScaleFull)
		var clinched bool
		tr.Drivers, clinched = contenders(st.drivers, tr.DriverMaxLeft, []int{tr.RacesLeft}, true)
		driverTitle = clinchOf(driverTitle, clinched, tr, tr.Drivers)
		tr.Constructors, clinched = contenders(st.teams, tr.ConstructorMaxLeft, []int{tr.RacesLeft, tr.RacesLeft}, false)
		teamTitle = clinchOf(teamTitle, clinched, tr, tr.Constructors)
		tr.DriverTitle, tr.ConstructorTitle = driverTitle, teamTitle
		out = append(out, tr)
	})
	return out, nil
}

// clinchOf returns when the title was clinched as of tr: the first session
// of the current run in which the leader has it clinched; nil while open.
func clinchOf(prev *Clinch, clinched bool, tr TitleRace, cs []Contender) *Clinch {
	switch {
	case !clinched:
		return nil
	case prev != nil && prev.ID == cs[0].ID:
		return prev
	}
	return &Clinch{ID: cs[0].ID, Name: cs[0].Name, Round: tr.Round, Session: tr.Session, GrandPrix: tr.GrandPrix}
}

// contenders computes the title maths of one championship, ranked as ts:
// maxLeft is the most one competitor can still score, wins the finishes
// (by place) it adds to its countback by scoring it. It reports whether
// the leader has clinched the title.
func contenders(ts []*tally, maxLeft float64, wins []int, drivers bool) ([]Contender, bool) {
	out := make([]Contender, len(ts))
	for i, t := range ts {
		c := Contender{Position: i + 1, ID: t.id, Points: t.points, MaxPoints: t.points + maxLeft, Colour: t.colour, InContention: true}
		if drivers {
			c.Name, c.Code = t.name, t.code
		} else {
			c.Name = t.teamName
		}
		best := math.Inf(-1) // the most any rival can finish on
		for j, r := range ts {
			if j == i {
				continue
			}
			if !canFinishAhead(t, r, maxLeft, wins) {
				c.InContention = false
			}
			best = max(best, r.points+maxLeft)
		}
		if c.InContention {
			need := 0.0
			if d := best - t.points; d >= 0 {
				// Points still to win are whole numbers: the least whole
				// number above d.
				need = math.Floor(d) + 1
			}
			if need <= maxLeft {
				c.Needed = &need
			}
		}
		out[i] = c
	}
	clinched := len(out) > 0
	for j := 1; j < len(ts); j++ {
		if canFinishAhead(ts[j], ts[0], maxLeft, wins) {
			clinched = false
		}
	}
	if clinched {
		zero := 0.0
		out[0].Champion, out[0].Needed = true, &zero
	}
	return out, clinched
}

// canFinishAhead reports whether x can still end the season ahead of r,
// or level with it on points and countback (see TitleRace): x scoring
// maxLeft, which adds wins to its finishes, and r scoring nothing more.
func canFinishAhead(x, r *tally, maxLeft float64, wins []int) bool {
	switch gap := r.points - x.points; {
	case maxLeft > gap:
		return true
	case maxLeft < gap:
		return false
	}
	at := func(s []int, i int) int {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	for i := range max(len(x.countback), len(r.countback), len(wins)) {
		if a, b := at(x.countback, i)+at(wins, i), at(r.countback, i); a != b {
			return a > b
		}
	}
	return true
}

// Contention returns the title race of season after round (0: the
// latest round with results) from the store, with the calendar cal;
// the error wraps ErrNoCalendar when cal has no round (the season's
// calendar is not known) and ErrNotFound when the store has no result of
// the round.
func Contention(ctx context.Context, q Queryer, season, round int, cal Calendar) (TitleRace, error) {
	if len(cal.Rounds) == 0 || cal.Season != season {
		return TitleRace{}, fmt.Errorf("title maths of %d: %w", season, ErrNoCalendar)
	}
	results, err := seasonResults(ctx, q, season)
	if err != nil {
		return TitleRace{}, err
	}
	penalties, err := seasonPenalties(ctx, q, season)
	if err != nil {
		return TitleRace{}, err
	}
	steps, err := TitleMaths(cal, results, penalties)
	if err != nil {
		return TitleRace{}, fmt.Errorf("title maths of %d: %w", season, err)
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if round == 0 || steps[i].Round == round {
			return steps[i], nil
		}
	}
	return TitleRace{}, fmt.Errorf("title maths of %d after round %d: %w", season, round, ErrNotFound)
}

// At says where a title was clinched: "round 17, Qatar Grand Prix
// sprint", "round 22, Las Vegas Grand Prix".
func (c Clinch) At() string {
	s := fmt.Sprintf("round %d", c.Round)
	if c.GrandPrix != "" {
		s += ", " + c.GrandPrix
	}
	if c.Session == Sprint {
		s += " sprint"
	}
	return s
}

// Available says what is still to be won: "Still to be won: 172 points
// per driver, 294 per constructor (6 races with the fastest-lap point, 2
// sprints)", or "Nothing left to win: the season is over".
func (t TitleRace) Available() string {
	if t.RacesLeft == 0 && t.SprintsLeft == 0 {
		return "Nothing left to win: the season is over"
	}
	var parts []string
	if t.RacesLeft > 0 {
		p := plural(t.RacesLeft, "race")
		if t.FastestLapPoint {
			p += " with the fastest-lap point"
		}
		parts = append(parts, p)
	}
	if t.SprintsLeft > 0 {
		parts = append(parts, plural(t.SprintsLeft, "sprint"))
	}
	return fmt.Sprintf("Still to be won: %s points per driver, %s per constructor (%s)", formatPoints(t.DriverMaxLeft),
		formatPoints(t.ConstructorMaxLeft), strings.Join(parts, ", "))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
