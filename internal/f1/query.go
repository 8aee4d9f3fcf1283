package f1

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Queryer runs read queries: a *sql.DB or a *sql.Tx.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ErrNotFound is returned by the queries that look up one thing that the
// store does not have.
var ErrNotFound = errors.New("not found")

// SeasonSummary describes a season the store has results of.
type SeasonSummary struct {
	Season int `json:"season"`
	// Rounds is the number of rounds with results; LastRound the latest.
	Rounds    int `json:"rounds"`
	LastRound int `json:"last_round"`
	Results   int `json:"results"`
	// Version grows with every change of the season (a cache key).
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// RoundInfo describes a round that has results, with its sessions in
// calendar order (the sprint before the race).
type RoundInfo struct {
	Season    int           `json:"season"`
	Round     int           `json:"round"`
	GrandPrix string        `json:"grand_prix"`
	Date      string        `json:"date,omitempty"`
	HasSprint bool          `json:"has_sprint"`
	Sessions  []SessionInfo `json:"sessions"`
}

// SessionInfo describes a session that has results.
type SessionInfo struct {
	Session     string `json:"session"`
	SessionKey  int    `json:"session_key,omitempty"`
	PointsScale string `json:"points_scale"`
	// Cars is the number of cars in the classification as announced by the
	// results (0 if unknown); Received the results the store has.
	Cars     int `json:"cars"`
	Received int `json:"received"`
	// Provisional reports a race whose fastest lap no official result gave
	// yet while some of its results wait for it: they carry no fastest-lap
	// point until one does.
	Provisional bool `json:"provisional"`
}

// Seasons lists the seasons in the store, latest first.
func Seasons(ctx context.Context, q Queryer) ([]SeasonSummary, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.season, s.rounds, s.results, s.version, s.updated_at,
			COALESCE((SELECT MAX(r.round) FROM f1_rounds r WHERE r.season = s.season), 0)
		FROM f1_seasons s WHERE s.results > 0 ORDER BY s.season DESC`)
	if err != nil {
		return nil, fmt.Errorf("list seasons: %w", err)
	}
	defer rows.Close()
	out := []SeasonSummary{}
	for rows.Next() {
		var s SeasonSummary
		if err := rows.Scan(&s.Season, &s.Rounds, &s.Results, &s.Version, &s.UpdatedAt, &s.LastRound); err != nil {
			return nil, fmt.Errorf("list seasons: %w", err)
		}
		s.UpdatedAt = s.UpdatedAt.UTC()
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list seasons: %w", err)
	}
	return out, nil
}

// Rounds lists the rounds of season that have results, in order.
func Rounds(ctx context.Context, q Queryer, season int) ([]RoundInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT round, grand_prix, race_date, has_sprint FROM f1_rounds
		WHERE season = $1 ORDER BY round`, season)
	if err != nil {
		return nil, fmt.Errorf("list rounds of %d: %w", season, err)
	}
	out := []RoundInfo{}
	idx := map[int]int{}
	for rows.Next() {
		r := RoundInfo{Season: season, Sessions: []SessionInfo{}}
		if err := rows.Scan(&r.Round, &r.GrandPrix, &r.Date, &r.HasSprint); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list rounds of %d: %w", season, err)
		}
		idx[r.Round] = len(out)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list rounds of %d: %w", season, err)
	}
	rows, err = q.QueryContext(ctx, `SELECT round, session, session_key, points_scale, cars, received, provisional FROM f1_sessions
		WHERE season = $1 ORDER BY round, session DESC`, season)
	if err != nil {
		return nil, fmt.Errorf("list sessions of %d: %w", season, err)
	}
	defer rows.Close()
	for rows.Next() {
		var round int
		var s SessionInfo
		if err := rows.Scan(&round, &s.Session, &s.SessionKey, &s.PointsScale, &s.Cars, &s.Received, &s.Provisional); err != nil {
			return nil, fmt.Errorf("list sessions of %d: %w", season, err)
		}
		if i, ok := idx[round]; ok {
			out[i].Sessions = append(out[i].Sessions, s)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions of %d: %w", season, err)
	}
	return out, nil
}

// Classification returns the results of one session in classification
// order, with their points; empty when the store has none.
func Classification(ctx context.Context, q Queryer, season, round int, session string) ([]ScoredResult, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+resultColumns+` FROM f1_results
		WHERE season = $1 AND round = $2 AND session = $3 ORDER BY display_order, car_number`, season, round, session)
	if err != nil {
		return nil, fmt.Errorf("read the classification of %d/%d %s: %w", season, round, session, err)
	}
	defer rows.Close()
	return collectResults(rows)
}

func collectResults(rows *sql.Rows) ([]ScoredResult, error) {
	out := []ScoredResult{}
	for rows.Next() {
		r, err := scanResult(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	return out, nil
}

// latestRound resolves round 0 to the season's latest round in table.
func latestRound(ctx context.Context, q Queryer, table string, season, round int) (int, error) {
	if round != 0 {
		return round, nil
	}
	var n sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT MAX(round) FROM `+table+` WHERE season = $1`, season).Scan(&n); err != nil {
		return 0, fmt.Errorf("find the latest round of %d: %w", season, err)
	}
	return int(n.Int64), nil
}

// DriverStandings returns the drivers' championship of season after round
// (0 = the latest round with results), in order; empty when the store has
// none.
func DriverStandings(ctx context.Context, q Queryer, season, round int) ([]DriverStanding, error) {
	round, err := latestRound(ctx, q, "f1_driver_standings", season, round)
	if err != nil {
		return nil, err
	}
	return driverStandings(ctx, q, `WHERE season = $1 AND round = $2 ORDER BY position`, season, round)
}

func driverStandings(ctx context.Context, q Queryer, where string, args ...any) ([]DriverStanding, error) {
	rows, err := q.QueryContext(ctx, `SELECT season, round, position, driver_id, driver_code, driver_name,
		team_id, team_name, team_colour, points, round_points, wins, podiums, sprint_wins FROM f1_driver_standings `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read drivers' standings: %w", err)
	}
	defer rows.Close()
	out := []DriverStanding{}
	for rows.Next() {
		var d DriverStanding
		if err := rows.Scan(&d.Season, &d.Round, &d.Position, &d.DriverID, &d.DriverCode, &d.DriverName,
			&d.TeamID, &d.TeamName, &d.TeamColour, &d.Points, &d.RoundPoints, &d.Wins, &d.Podiums, &d.SprintWins); err != nil {
			return nil, fmt.Errorf("read drivers' standings: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read drivers' standings: %w", err)
	}
	return out, nil
}

// ConstructorStandings returns the constructors' championship of season
// after round (0 = the latest round with results), in order; empty when the
// store has none.
func ConstructorStandings(ctx context.Context, q Queryer, season, round int) ([]ConstructorStanding, error) {
	round, err := latestRound(ctx, q, "f1_constructor_standings", season, round)
	if err != nil {
		return nil, err
	}
	return constructorStandings(ctx, q, `WHERE season = $1 AND round = $2 ORDER BY position`, season, round)
}

func constructorStandings(ctx context.Context, q Queryer, where string, args ...any) ([]ConstructorStanding, error) {
	rows, err := q.QueryContext(ctx, `SELECT season, round, position, team_id, team_name, team_colour,
		points, round_points, wins, podiums, sprint_wins FROM f1_constructor_standings `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read constructors' standings: %w", err)
	}
	defer rows.Close()
	out := []ConstructorStanding{}
	for rows.Next() {
		var c ConstructorStanding
		if err := rows.Scan(&c.Season, &c.Round, &c.Position, &c.TeamID, &c.TeamName, &c.TeamColour,
			&c.Points, &c.RoundPoints, &c.Wins, &c.Podiums, &c.SprintWins); err != nil {
			return nil, fmt.Errorf("read constructors' standings: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read constructors' standings: %w", err)
	}
	return out, nil
}

// PointsProgression is a season's championships round by round, to draw
// the points progression.
type PointsProgression struct {
	Season int `json:"season"`
	// Rounds are the rounds with results: the x axis. Points[i] and
	// Positions[i] of each line are after Rounds[i].
	Rounds       []RoundInfo `json:"rounds"`
	Drivers      []Line      `json:"drivers"`
	Constructors []Line      `json:"constructors"`
}

// Line is one driver's or constructor's championship round by round. Lines
// come in the order of the latest standings.
type Line struct {
	ID         string `json:"id"`
	Code       string `json:"code,omitempty"` // driver code; "" for a constructor
	Name       string `json:"name"`
	TeamID     string `json:"team_id"`
	TeamColour string `json:"team_colour,omitempty"`
	// Points is the total after each round; 0 before the first result.
	Points []float64 `json:"points"`
	// Positions is the championship position after each round; 0 before
	// the first result.
	Positions []int `json:"positions"`
}

// Progression returns season's championships after every round.
func Progression(ctx context.Context, q Queryer, season int) (PointsProgression, error) {
	p := PointsProgression{Season: season, Drivers: []Line{}, Constructors: []Line{}}
	var err error
	if p.Rounds, err = Rounds(ctx, q, season); err != nil {
		return p, err
	}
	at := map[int]int{}
	for i, r := range p.Rounds {
		at[r.Round] = i
	}
	n := len(p.Rounds)
	line := func(lines *[]Line, idx map[string]int, l Line) *Line {
		i, ok := idx[l.ID]
		if !ok {
			i = len(*lines)
			idx[l.ID] = i
			l.Points, l.Positions = make([]float64, n), make([]int, n)
			*lines = append(*lines, l)
		}
		return &(*lines)[i]
	}
	// Latest round first, so lines come in the latest order and take the
	// latest names.
	ds, err := driverStandings(ctx, q, `WHERE season = $1 ORDER BY round DESC, position`, season)
	if err != nil {
		return p, err
	}
	idx := map[string]int{}
	for _, d := range ds {
		i, ok := at[d.Round]
		if !ok {
			continue
		}
		l := line(&p.Drivers, idx, Line{ID: d.DriverID, Code: d.DriverCode, Name: d.DriverName, TeamID: d.TeamID, TeamColour: d.TeamColour})
		l.Points[i], l.Positions[i] = d.Points, d.Position
	}
	cs, err := constructorStandings(ctx, q, `WHERE season = $1 ORDER BY round DESC, position`, season)
	if err != nil {
		return p, err
	}
	idx = map[string]int{}
	for _, c := range cs {
		i, ok := at[c.Round]
		if !ok {
			continue
		}
		l := line(&p.Constructors, idx, Line{ID: c.TeamID, Name: c.TeamName, TeamID: c.TeamID, TeamColour: c.TeamColour})
		l.Points[i], l.Positions[i] = c.Points, c.Position
	}
	return p, nil
}

// DriverProfile is a driver's record in the store.
type DriverProfile struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
	// Seasons holds the driver's latest standing of each season, latest
	// season first.
	Seasons []DriverStanding `json:"seasons"`
	// Results are every race and sprint result of the driver, in calendar
	// order.
	Results []ScoredResult `json:"results"`
}

// Driver returns a driver's results and championships; the error wraps
// ErrNotFound when the store has no result of the driver.
func Driver(ctx context.Context, q Queryer, id string) (DriverProfile, error) {
	p := DriverProfile{ID: id}
	rows, err := q.QueryContext(ctx, `SELECT `+resultColumns+` FROM f1_results WHERE driver_id = $1
		ORDER BY season, round, session DESC`, id)
	if err != nil {
		return p, fmt.Errorf("read the results of %s: %w", id, err)
	}
	p.Results, err = collectResults(rows)
	rows.Close()
	if err != nil {
		return p, err
	}
	if len(p.Results) == 0 {
		return p, fmt.Errorf("driver %q: %w", id, ErrNotFound)
	}
	last := p.Results[len(p.Results)-1]
	p.Code, p.Name = last.DriverCode, last.DriverName
	p.Seasons, err = driverStandings(ctx, q, `WHERE driver_id = $1 AND round = (SELECT MAX(m.round)
		FROM f1_driver_standings m WHERE m.season = f1_driver_standings.season) ORDER BY season DESC`, id)
	return p, err
}
