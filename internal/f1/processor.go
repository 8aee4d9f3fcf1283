package f1

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// Names of the F1 processors: their consumer groups, positions and
// migration components. Keep them stable.
const (
	ResultsProcessor   = "f1-results"
	PenaltiesProcessor = "f1-penalties"
)

//go:embed migrations
var migrationFiles embed.FS

// migrations returns the schema of one processor: a directory of
// migrationFiles (fs.Sub cannot fail on these fixed, valid paths).
func migrations(dir string) fs.FS {
	sub, _ := fs.Sub(migrationFiles, "migrations/"+dir)
	return sub
}

// resultsTables are the tables of the f1-results processor: the results and
// everything derived from them. A rebuild drops them and replays
// f1.results; the penalties stay in f1_penalties, read again by the
// recomputation.
var resultsTables = []string{"f1_results", "f1_seasons", "f1_rounds", "f1_sessions",
	"f1_driver_standings", "f1_constructor_standings", "f1_drivers", "f1_amendments"}

// Processors returns the two processors of the F1 pipeline:
//
//   - f1-results reads f1.results and upserts each result by
//     season/round/session/car with the points it scored;
//   - f1-penalties reads f1.penalties and upserts each penalty by id.
//
// In the same transaction as its batch, each recomputes the derived tables
// of the seasons the batch touched: the championships after each round, the
// rounds, the sessions and the season's drivers (f1_drivers). Both lock a season's row of f1_seasons before
// changing the season, so that their recomputations of one season are
// serialized on PostgreSQL (SQLite runs one writer at a time anyway), and
// each recomputation sees every result and penalty committed before it.
//
// notify, if not nil, is called after each committed batch with every
// season and round whose results changed (for a penalty, its season and
// first round; the standings of the later rounds changed too). It runs on
// the processor's goroutine and must not block for long.
func Processors(notify func(season, round int)) []stream.Runnable {
	results := stream.Processor[Result]{
		Name:       ResultsProcessor,
		Topic:      TopicResults,
		Decode:     DecodeResult,
		Handle:     handleResults,
		Migrations: migrations("results"),
		Tables:     resultsTables,
	}
	penalties := stream.Processor[Penalty]{
		Name:       PenaltiesProcessor,
		Topic:      TopicPenalties,
		Decode:     DecodePenalty,
		Handle:     handlePenalties,
		Migrations: migrations("penalties"),
		Tables:     []string{"f1_penalties"},
	}
	if notify != nil {
		results.AfterCommit = func(batch []stream.Record[Result]) {
			var changed [][2]int
			for _, rec := range batch {
				changed = append(changed, [2]int{rec.Value.Season, rec.Value.Round})
			}
			notifyAll(notify, changed)
		}
		penalties.AfterCommit = func(batch []stream.Record[Penalty]) {
			var changed [][2]int
			for _, rec := range batch {
				changed = append(changed, [2]int{rec.Value.Season, rec.Value.FromRound})
			}
			notifyAll(notify, changed)
		}
	}
	// Each processor reads the other's table when it recomputes a season:
	// both schemas exist before either handles a batch.
	return []stream.Runnable{
		withSchemas{results, []stream.Spec{penalties.Spec()}},
		withSchemas{penalties, []stream.Spec{results.Spec()}},
	}
}

func notifyAll(notify func(season, round int), changed [][2]int) {
	slices.SortFunc(changed, func(a, b [2]int) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	for _, c := range slices.Compact(changed) {
		notify(c[0], c[1])
	}
}

// withSchemas is a processor that applies the schemas of other processors
// too before it runs.
type withSchemas struct {
	stream.Runnable
	others []stream.Spec
}

// Run applies the other processors' migrations, then runs the processor.
// Like a processor's Run, it returns nil when ctx ends, also when ctx ends
// while it is still starting (migrating): ops.CatchUp stops processors
// that have nothing to do as soon as the others caught up.
func (w withSchemas) Run(ctx context.Context, env stream.Env) error {
	err := func() error {
		for _, sp := range w.others {
			if err := stream.Migrate(ctx, env.Store, sp); err != nil {
				return err
			}
		}
		return w.Runnable.Run(ctx, env)
	}()
	if err != nil && ctx.Err() != nil {
		if env.Logger != nil {
			env.Logger.Debug("processor stopped while starting", "processor", w.Spec().Name, "err", err)
		}
		return nil
	}
	return err
}

// DecodeResult parses a message of f1.results and checks it: Validate, and
// a session and points scale that the season's rules know. An error sends
// the message to the dead-letter topic.
func DecodeResult(m *bus.Message) (Result, error) {
	var r Result
	if err := json.Unmarshal(m.Value, &r); err != nil {
		return r, fmt.Errorf("not a result: %w", err)
	}
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("invalid result %s: %w", r.Key(), err)
	}
	switch {
	case r.Laps < 0:
		return r, fmt.Errorf("invalid result %s: laps %d: must not be negative", r.Key(), r.Laps)
	case r.Order < 0 || r.Cars < 0:
		return r, fmt.Errorf("invalid result %s: order %d and cars %d must not be negative", r.Key(), r.Order, r.Cars)
	case r.Position != nil && *r.Position < 1:
		return r, fmt.Errorf("invalid result %s: position %d: must be 1 or more", r.Key(), *r.Position)
	}
	s, err := Rules(r.Season)
	if err != nil {
		return r, fmt.Errorf("result %s: %w", r.Key(), err)
	}
	if err := s.Check(r); err != nil {
		return r, fmt.Errorf("result %s: %w", r.Key(), err)
	}
	return r, nil
}

// DecodePenalty parses a message of f1.penalties and validates it.
func DecodePenalty(m *bus.Message) (Penalty, error) {
	var p Penalty
	if err := json.Unmarshal(m.Value, &p); err != nil {
		return p, fmt.Errorf("not a penalty: %w", err)
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("invalid penalty %q: %w", p.ID, err)
	}
	if _, err := Rules(p.Season); err != nil {
		return p, fmt.Errorf("penalty %q: %w", p.ID, err)
	}
	return p, nil
}

// handleResults upserts a batch of results with multi-row statements,
// recomputes each season the batch touched, once, and records in
// f1_amendments every field of a result already stored that the batch
// changed.
func handleResults(ctx context.Context, tx *sql.Tx, batch []stream.Record[Result]) error {
	now := time.Now().UTC()
	// A batch may hold a result and its amendment: the last one of each
	// identity wins, and one statement must not upsert a row twice.
	last := make(map[string]int, len(batch))
	for i, rec := range batch {
		last[rec.Value.Key()] = i
	}
	from := map[int]int{} // season -> first round changed
	// fastest maps each session where a result of the batch holds the
	// fastest lap to the last such car: it takes the lap from every other
	// (in recompute, which reads them all anyway).
	fastest := map[sessionID]int{}
	touched := map[sessionID]bool{}
	rows := make([][]any, 0, len(last))
	for i, rec := range batch {
		s, err := Rules(rec.Value.Season)
		if err != nil {
			return stream.Reject(err) // Decode let it through: a bug, not the database
		}
		r := settleFastestLap(rec.Value, s)
		if f, ok := from[r.Season]; !ok || r.Round < f {
			from[r.Season] = r.Round
		}
		id := sessionID{r.Season, r.Round, r.Session}
		touched[id] = true
		if r.FastestLap {
			fastest[id] = r.CarNumber
		}
		if last[r.Key()] != i {
			continue
		}
		if r.PointsScale == "" {
			r.PointsScale = ScaleFull
		}
		derived := Points(r, s)
		points := derived
		if r.Points != nil {
			points = *r.Points
			if points != derived {
				slog.Default().Warn("f1: a result's official points differ from the points the rules give; the official figure counts",
					"result", r.Key(), "driver", r.DriverID, "official", points, "rules", derived, "source", r.Source)
			}
		}
		rows = append(rows, []any{r.Season, r.Round, r.Session, r.CarNumber, r.SessionKey, r.GrandPrix, r.Date,
			r.PointsScale, r.DriverID, r.DriverCode, r.DriverName, r.TeamID, r.TeamName, r.TeamColour, r.HeadshotURL,
			nullInt(r.Position), r.Status, r.Order, r.Laps, r.Time, nullInt(r.Grid), r.FastestLap, r.Cars,
			points, nullFloat(r.Points), derived, r.FastestLapOfficial, r.Reason, r.Source, now})
	}
	seasons := keys(from)
	if err := lockSeasons(ctx, tx, seasons, now); err != nil {
		return err
	}
	before := map[int][]ScoredResult{}
	for _, season := range seasons {
		rs, err := sessionResults(ctx, tx, season, from[season], touched)
		if err != nil {
			return err
		}
		before[season] = rs
	}
	if err := store.InsertRows(ctx, tx, upsertResultsHead, rows, upsertResultsTail); err != nil {
		return fmt.Errorf("upsert %d results: %w", len(rows), err)
	}
	for _, season := range seasons {
		after, err := recompute(ctx, tx, season, from[season], fastest, now)
		if err != nil {
			return err
		}
		if err := recordAmendments(ctx, tx, season, before[season], after, batch, now); err != nil {
			return err
		}
	}
	return nil
}

// sessionID identifies a race or sprint.
type sessionID struct {
	season, round int
	session       string
}

// upsertResultsHead and upsertResultsTail upsert results with
// store.InsertRows, by season/round/session/car.
const (
	upsertResultsHead = `INSERT INTO f1_results (season, round, session, car_number, session_key, grand_prix, race_date,
	points_scale, driver_id, driver_code, driver_name, team_id, team_name, team_colour, headshot_url,
	position, status, display_order, laps, time_text, grid, fastest_lap, cars, points,
	official_points, derived_points, fastest_lap_known, reason, source, updated_at)`
	upsertResultsTail = `ON CONFLICT (season, round, session, car_number) DO UPDATE SET
	session_key = excluded.session_key, grand_prix = excluded.grand_prix, race_date = excluded.race_date,
	points_scale = excluded.points_scale, driver_id = excluded.driver_id, driver_code = excluded.driver_code,
	driver_name = excluded.driver_name, team_id = excluded.team_id, team_name = excluded.team_name,
	team_colour = excluded.team_colour, headshot_url = excluded.headshot_url, position = excluded.position,
	status = excluded.status, display_order = excluded.display_order, laps = excluded.laps,
	time_text = excluded.time_text, grid = excluded.grid, fastest_lap = excluded.fastest_lap,
	cars = excluded.cars, points = excluded.points, official_points = excluded.official_points,
	derived_points = excluded.derived_points, fastest_lap_known = excluded.fastest_lap_known,
	reason = excluded.reason, source = excluded.source, updated_at = excluded.updated_at`
)

func handlePenalties(ctx context.Context, tx *sql.Tx, batch []stream.Record[Penalty]) error {
	now := time.Now().UTC()
	touched := map[int]int{}
	for _, rec := range batch {
		touched[rec.Value.Season] = 1
		// A penalty moved to another season leaves its old one too.
		var old int
		err := tx.QueryRowContext(ctx, `SELECT season FROM f1_penalties WHERE id = $1`, rec.Value.ID).Scan(&old)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read penalty %s: %w", rec.Value.ID, err)
		default:
			touched[old] = 1
		}
	}
	seasons := keys(touched)
	if err := lockSeasons(ctx, tx, seasons, now); err != nil {
		return err
	}
	for _, rec := range batch {
		p := rec.Value
		if _, err := tx.ExecContext(ctx, `INSERT INTO f1_penalties (id, season, kind, target, points, from_round, reason, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (id) DO UPDATE SET season = excluded.season, kind = excluded.kind, target = excluded.target,
				points = excluded.points, from_round = excluded.from_round, reason = excluded.reason, updated_at = excluded.updated_at`,
			p.ID, p.Season, p.Kind, p.Target, p.Points, p.FromRound, p.Reason, now); err != nil {
			return fmt.Errorf("upsert penalty %s: %w", p.ID, err)
		}
	}
	// Penalties are rare: recompute their seasons whole.
	for _, season := range seasons {
		if _, err := recompute(ctx, tx, season, 1, nil, now); err != nil {
			return err
		}
	}
	return nil
}

func keys(m map[int]int) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// lockSeasons creates or bumps the f1_seasons row of each season, in
// order. Writing the row holds its lock until the transaction ends, so two
// transactions that change a season (the two processors, or two workers of
// one) run their recomputation one after the other, and the second sees
// what the first committed (READ COMMITTED reads afresh per statement).
// Locking in season order rules out deadlocks between them.
func lockSeasons(ctx context.Context, tx *sql.Tx, seasons []int, now time.Time) error {
	for _, s := range seasons {
		if _, err := tx.ExecContext(ctx, `INSERT INTO f1_seasons (season, version, rounds, results, updated_at)
			VALUES ($1, 1, 0, 0, $2)
			ON CONFLICT (season) DO UPDATE SET version = f1_seasons.version + 1, updated_at = excluded.updated_at`,
			s, now); err != nil {
			return fmt.Errorf("lock season %d: %w", s, err)
		}
	}
	return nil
}

// recompute brings the points of the season's results and its derived
// tables up to date, and returns the season's results as they now stand.
// Standings before round from are left alone: they depend only on earlier
// rounds. fastest maps the sessions whose fastest lap a batch just gave to
// a car: any other car of the session loses it (one fastest lap per
// session), and its point. A result's points are its official figure when
// it has one, else what the rules give.
func recompute(ctx context.Context, tx *sql.Tx, season, from int, fastest map[sessionID]int, now time.Time) ([]ScoredResult, error) {
	rules, err := Rules(season)
	if err != nil {
		return nil, stream.Reject(err)
	}
	results, err := seasonResults(ctx, tx, season)
	if err != nil {
		return nil, err
	}
	for i := range results {
		r := &results[i]
		had, stored, storedDerived := r.FastestLap, r.Points, r.DerivedPoints
		if holder, ok := fastest[sessionID{r.Season, r.Round, r.Session}]; ok && r.CarNumber != holder {
			r.FastestLap = false
		}
		r.DerivedPoints = Points(r.Result, rules)
		r.Points = r.DerivedPoints
		if o, ok := r.Official(); ok {
			r.Points = o
		}
		if r.Points == stored && r.DerivedPoints == storedDerived && r.FastestLap == had {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE f1_results SET points = $1, derived_points = $2, fastest_lap = $3,
			updated_at = $4 WHERE season = $5 AND round = $6 AND session = $7 AND car_number = $8`,
			r.Points, r.DerivedPoints, r.FastestLap, now, r.Season, r.Round, r.Session, r.CarNumber); err != nil {
			return nil, fmt.Errorf("update points of %s: %w", r.Key(), err)
		}
		from = min(from, r.Round)
	}
	penalties, err := seasonPenalties(ctx, tx, season)
	if err != nil {
		return nil, err
	}
	ds, cs := Standings(season, results, penalties)
	if err := writeStandings(ctx, tx, season, from, ds, cs); err != nil {
		return nil, err
	}
	rounds, err := writeRounds(ctx, tx, season, from, results, rules)
	if err != nil {
		return nil, err
	}
	if err := writeDrivers(ctx, tx, season, seasonDrivers(season, results)); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE f1_seasons SET rounds = $1, results = $2 WHERE season = $3`,
		rounds, len(results), season); err != nil {
		return nil, fmt.Errorf("update season %d: %w", season, err)
	}
	return results, nil
}

// resultColumns are the columns scanResult reads, in order.
const resultColumns = `season, round, session, car_number, session_key, grand_prix, race_date, points_scale,
	driver_id, driver_code, driver_name, team_id, team_name, team_colour, headshot_url,
	position, status, display_order, laps, time_text, grid, fastest_lap, cars, points,
	official_points, derived_points, fastest_lap_known, reason, source`

type scanner interface{ Scan(dest ...any) error }

func scanResult(sc scanner) (ScoredResult, error) {
	var r ScoredResult
	var pos, grid sql.NullInt64
	var official sql.NullFloat64
	err := sc.Scan(&r.Season, &r.Round, &r.Session, &r.CarNumber, &r.SessionKey, &r.GrandPrix, &r.Date, &r.PointsScale,
		&r.DriverID, &r.DriverCode, &r.DriverName, &r.TeamID, &r.TeamName, &r.TeamColour, &r.HeadshotURL,
		&pos, &r.Status, &r.Order, &r.Laps, &r.Time, &grid, &r.FastestLap, &r.Cars, &r.Points,
		&official, &r.DerivedPoints, &r.FastestLapOfficial, &r.Reason, &r.Source)
	if err != nil {
		return r, fmt.Errorf("read a result: %w", err)
	}
	r.Position = intPtr(pos)
	r.Grid = intPtr(grid)
	if official.Valid {
		r.Result.Points = &official.Float64
	}
	return r, nil
}

// seasonResults returns the season's results in order (rounds in order,
// the sprint before the race, the classification's order).
func seasonResults(ctx context.Context, q Queryer, season int) ([]ScoredResult, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+resultColumns+` FROM f1_results WHERE season = $1
		ORDER BY round, session DESC, display_order, car_number`, season)
	if err != nil {
		return nil, fmt.Errorf("read results of %d: %w", season, err)
	}
	defer rows.Close()
	out, err := collectResults(rows)
	if err != nil {
		return nil, fmt.Errorf("read results of %d: %w", season, err)
	}
	return out, nil
}

// sessionResults returns the stored results of the season's sessions in
// touched, from round from on.
func sessionResults(ctx context.Context, tx *sql.Tx, season, from int, touched map[sessionID]bool) ([]ScoredResult, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+resultColumns+` FROM f1_results WHERE season = $1 AND round >= $2`, season, from)
	if err != nil {
		return nil, fmt.Errorf("read results of %d: %w", season, err)
	}
	defer rows.Close()
	all, err := collectResults(rows)
	if err != nil {
		return nil, fmt.Errorf("read results of %d: %w", season, err)
	}
	out := all[:0]
	for _, r := range all {
		if touched[sessionID{r.Season, r.Round, r.Session}] {
			out = append(out, r)
		}
	}
	return out, nil
}

func seasonPenalties(ctx context.Context, q Queryer, season int) ([]Penalty, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, season, kind, target, points, from_round, reason
		FROM f1_penalties WHERE season = $1 ORDER BY id`, season)
	if err != nil {
		return nil, fmt.Errorf("read penalties of %d: %w", season, err)
	}
	defer rows.Close()
	var out []Penalty
	for rows.Next() {
		var p Penalty
		if err := rows.Scan(&p.ID, &p.Season, &p.Kind, &p.Target, &p.Points, &p.FromRound, &p.Reason); err != nil {
			return nil, fmt.Errorf("read a penalty: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read penalties of %d: %w", season, err)
	}
	return out, nil
}

// writeStandings replaces the season's standings after round from and
// the later rounds.
func writeStandings(ctx context.Context, tx *sql.Tx, season, from int, ds []DriverStanding, cs []ConstructorStanding) error {
	for _, table := range []string{"f1_driver_standings", "f1_constructor_standings"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE season = $1 AND round >= $2`, season, from); err != nil {
			return fmt.Errorf("clear %s of %d from round %d: %w", table, season, from, err)
		}
	}
	var rows [][]any
	for _, d := range ds {
		if d.Round >= from {
			rows = append(rows, []any{d.Season, d.Round, d.DriverID, d.Position, d.Points, d.RoundPoints, d.Wins, d.Podiums,
				d.SprintWins, d.DriverCode, d.DriverName, d.TeamID, d.TeamName, d.TeamColour})
		}
	}
	if err := store.InsertRows(ctx, tx, `INSERT INTO f1_driver_standings (season, round, driver_id, position, points,
		round_points, wins, podiums, sprint_wins, driver_code, driver_name, team_id, team_name, team_colour)`, rows, ""); err != nil {
		return fmt.Errorf("write the drivers' standings of %d: %w", season, err)
	}
	rows = rows[:0]
	for _, c := range cs {
		if c.Round >= from {
			rows = append(rows, []any{c.Season, c.Round, c.TeamID, c.Position, c.Points, c.RoundPoints, c.Wins, c.Podiums,
				c.SprintWins, c.TeamName, c.TeamColour})
		}
	}
	if err := store.InsertRows(ctx, tx, `INSERT INTO f1_constructor_standings (season, round, team_id, position, points,
		round_points, wins, podiums, sprint_wins, team_name, team_colour)`, rows, ""); err != nil {
		return fmt.Errorf("write the constructors' standings of %d: %w", season, err)
	}
	return nil
}

// writeRounds rewrites the season's rounds and sessions from round from on
// (the earlier ones depend only on results that did not change) and returns
// the number of rounds with results.
func writeRounds(ctx context.Context, tx *sql.Tx, season, from int, results []ScoredResult, rules Scoring) (int, error) {
	for _, table := range []string{"f1_rounds", "f1_sessions"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE season = $1 AND round >= $2`, season, from); err != nil {
			return 0, fmt.Errorf("clear %s of %d from round %d: %w", table, season, from, err)
		}
	}
	type sessionKey struct {
		round   int
		session string
	}
	var rounds, sessions [][]any
	var fastestKnown []bool // per session: a result holds the official fastest lap
	sessIdx := map[sessionKey]int{}
	roundIdx := map[int]int{}
	n := 0
	for _, r := range results {
		i, ok := roundIdx[r.Round]
		if !ok {
			n++
			if r.Round < from {
				roundIdx[r.Round] = -1
				continue
			}
			i = len(rounds)
			roundIdx[r.Round] = i
			rounds = append(rounds, []any{season, r.Round, r.GrandPrix, r.Date, false})
		}
		if i < 0 {
			continue
		}
		if r.Session == Race || rounds[i][2] == "" {
			// The race's name and date win over a sprint's.
			if r.GrandPrix != "" {
				rounds[i][2] = r.GrandPrix
			}
			if r.Date != "" {
				rounds[i][3] = r.Date
			}
		}
		if r.Session == Sprint {
			rounds[i][4] = true
		}
		k := sessionKey{r.Round, r.Session}
		j, ok := sessIdx[k]
		if !ok {
			j = len(sessions)
			sessIdx[k] = j
			sessions = append(sessions, []any{season, r.Round, r.Session, 0, r.PointsScale, 0, 0, false})
			fastestKnown = append(fastestKnown, false)
		}
		s := sessions[j]
		if r.SessionKey != 0 {
			s[3] = r.SessionKey
		}
		s[5] = max(s[5].(int), r.Cars)
		s[6] = s[6].(int) + 1
		// Provisional: a race paying a fastest-lap point that no official
		// result gave yet, with results waiting for it.
		fastestKnown[j] = fastestKnown[j] || r.FastestLap
		s[7] = rules.hasFastestLapPoint(r.Session, r.PointsScale) && !fastestKnown[j] &&
			(s[7].(bool) || !r.FastestLapOfficial)
	}
	if err := store.InsertRows(ctx, tx, `INSERT INTO f1_rounds (season, round, grand_prix, race_date, has_sprint)`, rounds, ""); err != nil {
		return 0, fmt.Errorf("write the rounds of %d: %w", season, err)
	}
	if err := store.InsertRows(ctx, tx, `INSERT INTO f1_sessions (season, round, session, session_key, points_scale,
		cars, received, provisional)`, sessions, ""); err != nil {
		return 0, fmt.Errorf("write the sessions of %d: %w", season, err)
	}
	return n, nil
}

func nullInt(p *int) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*p), Valid: true}
}

func nullFloat(p *float64) sql.NullFloat64 {
	if p == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *p, Valid: true}
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}
