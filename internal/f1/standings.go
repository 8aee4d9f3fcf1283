package f1

import (
	"cmp"
	"slices"
)

// ScoredResult is a result with the points it scored.
type ScoredResult struct {
	Result
	// Points are the points the result counts for in the standings: the
	// source's official figure (Result.Points, see Official) when it gave
	// one, else DerivedPoints.
	Points float64 `json:"points"`
	// DerivedPoints are the points the season's rules give the result.
	DerivedPoints float64 `json:"derived_points"`
}

// Official returns the source's official points figure of the result, if
// it gave one.
func (r ScoredResult) Official() (float64, bool) {
	if r.Result.Points == nil {
		return 0, false
	}
	return *r.Result.Points, true
}

// PointsMismatch reports a result whose official points figure differs
// from the points the rules give: the official figure counts, and the
// difference is worth a look (a decision the rules do not model, or a
// source's error).
func (r ScoredResult) PointsMismatch() bool {
	o, ok := r.Official()
	return ok && o != r.DerivedPoints
}

// DriverStanding is a driver's place in the drivers' championship after a
// round.
type DriverStanding struct {
	Season     int    `json:"season"`
	Round      int    `json:"round"`
	Position   int    `json:"position"`
	DriverID   string `json:"driver_id"`
	DriverCode string `json:"driver_code"`
	DriverName string `json:"driver_name"`
	// TeamID, TeamName and TeamColour are those of the driver's latest
	// result.
	TeamID     string `json:"team_id"`
	TeamName   string `json:"team_name"`
	TeamColour string `json:"team_colour,omitempty"`
	// Points is the total after the round, penalties included.
	Points float64 `json:"points"`
	// RoundPoints is what the round changed the total by: its sprint and
	// race points, and the penalties that apply from it.
	RoundPoints float64 `json:"round_points"`
	// Wins and Podiums count Grand Prix results (not sprints) so far;
	// SprintWins the sprints won, apart.
	Wins       int `json:"wins"`
	Podiums    int `json:"podiums"`
	SprintWins int `json:"sprint_wins"`
}

// ConstructorStanding is a constructor's place in the constructors'
// championship after a round.
type ConstructorStanding struct {
	Season      int     `json:"season"`
	Round       int     `json:"round"`
	Position    int     `json:"position"`
	TeamID      string  `json:"team_id"`
	TeamName    string  `json:"team_name"`
	TeamColour  string  `json:"team_colour,omitempty"`
	Points      float64 `json:"points"`
	RoundPoints float64 `json:"round_points"`
	// Wins and Podiums count the Grand Prix results of all the team's cars;
	// SprintWins the sprints they won, apart.
	Wins       int `json:"wins"`
	Podiums    int `json:"podiums"`
	SprintWins int `json:"sprint_wins"`
}

// tally is a competitor's running record in a championship.
type tally struct {
	id, code, name           string
	teamID, teamName, colour string
	at                       [2]int // round and session rank of the result the names come from
	points                   float64
	prev                     float64 // points after the previous round in the table
	wins, podiums            int
	sprintWins               int
	// countback[i] is the number of Grand Prix finishes in position i+1.
	countback []int
}

func (t *tally) add(r ScoredResult) {
	t.points += r.Points
	if at := [2]int{r.Round, sessionRank(r.Session)}; cmp.Compare(at[0], t.at[0]) > 0 || (at[0] == t.at[0] && at[1] >= t.at[1]) {
		t.at = at
		t.code, t.name = r.DriverCode, r.DriverName
		t.teamID, t.teamName, t.colour = r.TeamID, r.TeamName, r.TeamColour
	}
	if r.Status != Finished || r.Position == nil || *r.Position < 1 {
		return
	}
	p := *r.Position
	if r.Session == Sprint {
		if p == 1 {
			t.sprintWins++
		}
		return
	}
	for len(t.countback) < p {
		t.countback = append(t.countback, 0)
	}
	t.countback[p-1]++
	if p == 1 {
		t.wins++
	}
	if p <= 3 {
		t.podiums++
	}
}

// sessionRank orders the sessions of a weekend: the sprint before the race.
func sessionRank(session string) int {
	if session == Sprint {
		return 1
	}
	return 2
}

// rank sorts competitors into championship order: points, then countback
// over Grand Prix classified positions (most wins, then most 2nd places, and
// so on), then id so that the order is stable when even countback ties.
func rank(ts []*tally) {
	slices.SortFunc(ts, func(a, b *tally) int {
		if c := cmp.Compare(b.points, a.points); c != 0 {
			return c
		}
		for i := range max(len(a.countback), len(b.countback)) {
			var x, y int
			if i < len(a.countback) {
				x = a.countback[i]
			}
			if i < len(b.countback) {
				y = b.countback[i]
			}
			if x != y {
				return cmp.Compare(y, x)
			}
		}
		return cmp.Compare(a.id, b.id)
	})
}

// championship is one of the two championships being computed.
type championship struct {
	byID map[string]*tally
	// pending are penalties not applied yet: their round has not come, or
	// their target has no result yet.
	pending []Penalty
}

func (c *championship) get(id string) *tally {
	t, ok := c.byID[id]
	if !ok {
		t = &tally{id: id, at: [2]int{-1, -1}}
		c.byID[id] = t
	}
	return t
}

// applyPenalties applies the pending penalties due by round to the
// competitors that have results.
func (c *championship) applyPenalties(round int) {
	keep := c.pending[:0]
	for _, p := range c.pending {
		t, ok := c.byID[p.Target]
		if p.FromRound <= round && ok {
			t.points += p.Points
			continue
		}
		keep = append(keep, p)
	}
	c.pending = keep
}

// snapshot ranks the competitors and records their round points.
func (c *championship) snapshot() []*tally {
	ts := make([]*tally, 0, len(c.byID))
	for _, t := range c.byID {
		ts = append(ts, t)
	}
	rank(ts)
	return ts
}

// Standings computes the drivers' and constructors' championships of a
// season after each round that has results, from its scored results and
// points penalties. Results of other seasons and penalties of other
// seasons are ignored. A penalty counts from its FromRound on (or from the
// first round its target has a result after that). The tables are sorted
// by round, then position.
func Standings(season int, results []ScoredResult, penalties []Penalty) ([]DriverStanding, []ConstructorStanding) {
	var ds []DriverStanding
	var cs []ConstructorStanding
	walkSeason(season, results, penalties, func(st step) {
		if !st.lastOfRound {
			return
		}
		for i, t := range st.drivers {
			ds = append(ds, DriverStanding{
				Season: season, Round: st.round, Position: i + 1,
				DriverID: t.id, DriverCode: t.code, DriverName: t.name,
				TeamID: t.teamID, TeamName: t.teamName, TeamColour: t.colour,
				Points: t.points, RoundPoints: t.points - t.prev, Wins: t.wins, Podiums: t.podiums, SprintWins: t.sprintWins,
			})
			t.prev = t.points
		}
		for i, t := range st.teams {
			cs = append(cs, ConstructorStanding{
				Season: season, Round: st.round, Position: i + 1,
				TeamID: t.id, TeamName: t.teamName, TeamColour: t.colour,
				Points: t.points, RoundPoints: t.points - t.prev, Wins: t.wins, Podiums: t.podiums, SprintWins: t.sprintWins,
			})
			t.prev = t.points
		}
	})
	return ds, cs
}

// step is both championships after one session, competitors ranked.
type step struct {
	round   int
	session string
	// lastOfRound reports the round's last session with results (the
	// race, or a sprint whose race has no result yet).
	lastOfRound    bool
	drivers, teams []*tally
}

// walkSeason runs the season's championships session by session, in
// calendar order (rounds in order, the sprint before the race), and calls
// fn after each session with results. The penalties due by a round apply
// from its first session on.
func walkSeason(season int, results []ScoredResult, penalties []Penalty, fn func(step)) {
	type sessionKey struct{ round, rank int }
	bySession := map[sessionKey][]ScoredResult{}
	var keys []sessionKey
	for _, r := range results {
		if r.Season != season {
			continue
		}
		k := sessionKey{r.Round, sessionRank(r.Session)}
		if _, ok := bySession[k]; !ok {
			keys = append(keys, k)
		}
		bySession[k] = append(bySession[k], r)
	}
	slices.SortFunc(keys, func(a, b sessionKey) int { return cmp.Or(cmp.Compare(a.round, b.round), cmp.Compare(a.rank, b.rank)) })
	drivers := &championship{byID: map[string]*tally{}}
	teams := &championship{byID: map[string]*tally{}}
	for _, p := range penalties {
		if p.Season != season {
			continue
		}
		switch p.Kind {
		case PenaltyDriver:
			drivers.pending = append(drivers.pending, p)
		case PenaltyConstructor:
			teams.pending = append(teams.pending, p)
		}
	}
	for i, k := range keys {
		rs := bySession[k]
		for _, r := range rs {
			drivers.get(r.DriverID).add(r)
			// The constructor's name comes from its results; the driver
			// fields of its tally are unused.
			teams.get(r.TeamID).add(r)
		}
		drivers.applyPenalties(k.round)
		teams.applyPenalties(k.round)
		fn(step{round: k.round, session: rs[0].Session, lastOfRound: i == len(keys)-1 || keys[i+1].round != k.round,
			drivers: drivers.snapshot(), teams: teams.snapshot()})
	}
}
