package archive

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/podiumhq/podium/internal/f1"
)

// Parse reads an archive from the CSV files of fsys (see data/SOURCE.md
// for their columns): drivers.csv, constructors.csv, races.csv,
// results.csv, entrants.csv and penalties.csv. Every row is checked; the
// first problem is returned with its file and line.
func Parse(fsys fs.FS) (*Archive, error) {
	a := &Archive{seasons: map[int]*Season{}, drivers: map[string]Driver{}, teams: map[string]Team{}}
	steps := []struct {
		file string
		row  func(t *table) error
	}{
		{"drivers.csv", a.driverRow},
		{"constructors.csv", a.teamRow},
		{"races.csv", a.raceRow},
		{"results.csv", a.resultRow},
		{"entrants.csv", a.entrantRow},
		{"penalties.csv", a.penaltyRow},
	}
	for _, st := range steps {
		if err := readCSV(fsys, st.file, st.row); err != nil {
			return nil, err
		}
	}
	if err := a.finish(); err != nil {
		return nil, err
	}
	return a, nil
}

// table is the current row of a CSV file, read by column name.
type table struct {
	file string
	line int
	cols map[string]int
	rec  []string
	err  error // the first problem met in the row
}

func readCSV(fsys fs.FS, file string, row func(t *table) error) error {
	f, err := fsys.Open(file)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("archive: %s: read header: %w", file, err)
	}
	t := &table{file: file, line: 1, cols: make(map[string]int, len(header))}
	for i, h := range header {
		t.cols[strings.TrimPrefix(h, "\ufeff")] = i
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		t.line++
		if err != nil {
			return fmt.Errorf("archive: %s: %w", file, err)
		}
		t.rec, t.err = rec, nil
		if err := row(t); err != nil {
			return fmt.Errorf("archive: %s line %d: %w", file, t.line, err)
		}
		if t.err != nil {
			return fmt.Errorf("archive: %s line %d: %w", file, t.line, t.err)
		}
	}
}

// str returns column name of the row, recording an error if the file has
// no such column.
func (t *table) str(name string) string {
	i, ok := t.cols[name]
	if !ok {
		t.fail(fmt.Errorf("no column %q", name))
		return ""
	}
	if i >= len(t.rec) {
		return ""
	}
	return strings.TrimSpace(t.rec[i])
}

func (t *table) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// int returns a required integer column.
func (t *table) int(name string) int {
	v := t.str(name)
	n, err := strconv.Atoi(v)
	if err != nil {
		t.fail(fmt.Errorf("%s %q: not an integer", name, v))
	}
	return n
}

// optInt returns an optional integer column: nil when empty or not a
// number in one of the words allowed.
func (t *table) optInt(name string, words ...string) *int {
	v := t.str(name)
	if v == "" || slices.Contains(words, v) {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.fail(fmt.Errorf("%s %q: not an integer", name, v))
		return nil
	}
	return &n
}

func (t *table) float(name string) float64 {
	v := t.str(name)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		t.fail(fmt.Errorf("%s %q: not a number", name, v))
	}
	return f
}

func (t *table) bool(name string) bool {
	switch v := t.str(name); v {
	case "true":
		return true
	case "false", "":
		return false
	default:
		t.fail(fmt.Errorf("%s %q: want true or false", name, v))
		return false
	}
}

func (a *Archive) driverRow(t *table) error {
	d := Driver{ID: t.str("driver_id"), Code: t.str("abbreviation"), FirstName: t.str("first_name"),
		LastName: t.str("last_name"), FullName: t.str("full_name"),
		Nationality: t.str("nationality_country_id"), DateOfBirth: t.str("date_of_birth")}
	d.Name = strings.TrimSpace(d.FirstName + " " + d.LastName)
	if d.ID == "" {
		return errors.New("driver_id is empty")
	}
	if _, dup := a.drivers[d.ID]; dup {
		return fmt.Errorf("driver %s listed twice", d.ID)
	}
	a.drivers[d.ID] = d
	return nil
}

func (a *Archive) teamRow(t *table) error {
	tm := Team{ID: t.str("constructor_id"), Name: t.str("name"), FullName: t.str("full_name"), Country: t.str("country_id")}
	if tm.ID == "" {
		return errors.New("constructor_id is empty")
	}
	if _, dup := a.teams[tm.ID]; dup {
		return fmt.Errorf("constructor %s listed twice", tm.ID)
	}
	tm.Colour = teamColours[tm.ID]
	a.teams[tm.ID] = tm
	return nil
}

func (a *Archive) season(year int) *Season {
	s, ok := a.seasons[year]
	if !ok {
		s = &Season{Year: year}
		a.seasons[year] = s
		a.years = append(a.years, year)
	}
	return s
}

func (a *Archive) raceRow(t *table) error {
	r := &Round{
		Season: t.int("season"), Round: t.int("round"),
		Slug: t.str("race_slug"), GrandPrixID: t.str("grand_prix_id"), GrandPrix: t.str("grand_prix_name"),
		OfficialName: t.str("official_name"), CircuitID: t.str("circuit_id"), Circuit: t.str("circuit_name"),
		Date: t.str("date"), TimeUTC: t.str("time_utc"), Country: t.str("country_id"),
		HasSprint: t.bool("has_sprint"),
	}
	if p := t.optInt("laps"); p != nil {
		r.Laps = *p
	}
	if p := t.optInt("scheduled_laps"); p != nil {
		r.ScheduledLaps = *p
	}
	if p := t.optInt("sprint_laps"); p != nil {
		r.SprintLaps = *p
	}
	if p := t.optInt("sprint_scheduled_laps"); p != nil {
		r.SprintScheduledLaps = *p
	}
	if t.err != nil {
		return nil
	}
	if r.GrandPrix == "" || len(r.Date) != len("2006-01-02") {
		return fmt.Errorf("race %d/%d needs a grand_prix_name and a date (YYYY-MM-DD)", r.Season, r.Round)
	}
	s := a.season(r.Season)
	if r.Round != len(s.Rounds)+1 {
		return fmt.Errorf("race %d/%d: rounds must be listed in order from 1 (expected round %d)", r.Season, r.Round, len(s.Rounds)+1)
	}
	s.Rounds = append(s.Rounds, r)
	return nil
}

// statuses maps results.csv position_text values that are not positions.
var statuses = map[string]string{"DNF": f1.DNF, "DNS": f1.DNS, "DSQ": f1.DSQ, "NC": f1.NC}

func (a *Archive) resultRow(t *table) error {
	season, round, kind := t.int("season"), t.int("round"), t.str("session")
	if t.err != nil {
		return nil
	}
	rd, ok := a.Round(season, round)
	if !ok {
		return fmt.Errorf("result of %d/%d: no such race in races.csv", season, round)
	}
	if kind != f1.Race && kind != f1.Sprint {
		return fmt.Errorf("session %q: want %s or %s", kind, f1.Race, f1.Sprint)
	}
	if kind == f1.Sprint && !rd.HasSprint {
		return fmt.Errorf("sprint result of %d/%d, which races.csv says had no sprint", season, round)
	}
	ss, ok := rd.Session(kind)
	if !ok {
		scale := f1.ScaleFull
		if s, ok := pointsScales[[2]int{season, round}]; ok && kind == f1.Race {
			scale = s
		}
		ss = &Session{Kind: kind, PointsScale: scale}
		rd.Sessions = append(rd.Sessions, ss)
		// Calendar order: the sprint before the race.
		slices.SortStableFunc(rd.Sessions, func(x, y *Session) int {
			return strings.Compare(y.Kind, x.Kind) // SPRINT > RACE
		})
	}
	driverID, teamID := t.str("driver_id"), t.str("constructor_id")
	d, ok := a.drivers[driverID]
	if !ok {
		return fmt.Errorf("driver %q is not in drivers.csv", driverID)
	}
	tm, ok := a.teams[teamID]
	if !ok {
		return fmt.Errorf("constructor %q is not in constructors.csv", teamID)
	}
	res := f1.Result{
		Season: season, Round: round, Session: kind,
		GrandPrix: rd.GrandPrix, Date: rd.SessionDate(kind), PointsScale: ss.PointsScale,
		CarNumber: t.int("driver_number"), DriverID: driverID, DriverCode: t.str("driver_abbreviation"),
		DriverName: d.Name, TeamID: teamID, TeamName: tm.Name, TeamColour: tm.Colour,
		Order: t.int("position_display_order"), Time: t.str("time_or_gap"),
		Grid: t.optInt("grid_position", "PL"), FastestLap: t.bool("fastest_lap"),
		// F1DB records the official classification: its fastest laps and
		// points are official.
		FastestLapOfficial: true, Reason: t.str("reason_retired"), Source: f1.SourceArchive,
	}
	if res.DriverCode == "" {
		res.DriverCode = d.Code
	}
	res.Time = f1.CanonicalGap(res.Time) // F1DB writes "+1 lap" and "+1:14.385": one format everywhere
	if p := t.optInt("laps"); p != nil {
		res.Laps = *p
	}
	text := t.str("position_text")
	res.Position = t.optInt("position_number")
	if st, ok := statuses[text]; ok {
		res.Status = st
		if res.Position != nil {
			return fmt.Errorf("position_text %s with a position_number", text)
		}
	} else {
		res.Status = f1.Finished
		if res.Position == nil || strconv.Itoa(*res.Position) != text {
			return fmt.Errorf("position_text %q does not match position_number", text)
		}
	}
	points := t.float("points")
	if t.err != nil {
		return nil
	}
	if err := res.Validate(); err != nil {
		return fmt.Errorf("result %s: %w", res.Key(), err)
	}
	for _, other := range ss.Results {
		if other.CarNumber == res.CarNumber {
			return fmt.Errorf("result %s listed twice", res.Key())
		}
	}
	res.Points = &points
	ss.Results = append(ss.Results, res)
	return nil
}

func (a *Archive) entrantRow(t *table) error {
	e := Entrant{Season: t.int("season"), DriverID: t.str("driver_id"), TeamID: t.str("constructor_id"),
		CarNumber: t.int("driver_number"), TestDriver: t.bool("test_driver")}
	rounds, err := parseRounds(t.str("rounds"))
	if err != nil {
		return err
	}
	e.Rounds = rounds
	if t.err != nil {
		return nil
	}
	s, ok := a.seasons[e.Season]
	if !ok {
		return fmt.Errorf("entrant of season %d, which races.csv does not have", e.Season)
	}
	if _, ok := a.drivers[e.DriverID]; !ok {
		return fmt.Errorf("driver %q is not in drivers.csv", e.DriverID)
	}
	if _, ok := a.teams[e.TeamID]; !ok {
		return fmt.Errorf("constructor %q is not in constructors.csv", e.TeamID)
	}
	s.Entrants = append(s.Entrants, e)
	return nil
}

// parseRounds reads a list of rounds such as "1-15,17".
func parseRounds(v string) ([]int, error) {
	if v == "" {
		return nil, nil
	}
	var out []int
	for part := range strings.SplitSeq(v, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		from, err1 := strconv.Atoi(lo)
		to := from
		var err2 error
		if isRange {
			to, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || from < 1 || to < from {
			return nil, fmt.Errorf("rounds %q: want a list such as 1-15,17", v)
		}
		for r := from; r <= to; r++ {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (a *Archive) penaltyRow(t *table) error {
	p := f1.Penalty{Season: t.int("season"), Kind: t.str("kind"), Target: t.str("id"),
		Points: t.float("points"), FromRound: t.int("from_round"), Reason: t.str("reason")}
	if t.err != nil {
		return nil
	}
	p.ID = PenaltyID(p)
	if err := p.Validate(); err != nil {
		return err
	}
	s, ok := a.seasons[p.Season]
	if !ok || p.FromRound > len(s.Rounds) {
		return fmt.Errorf("penalty %s: no round %d in season %d", p.ID, p.FromRound, p.Season)
	}
	switch p.Kind {
	case f1.PenaltyDriver:
		if _, ok := a.drivers[p.Target]; !ok {
			return fmt.Errorf("penalty %s: driver %q is not in drivers.csv", p.ID, p.Target)
		}
	case f1.PenaltyConstructor:
		if _, ok := a.teams[p.Target]; !ok {
			return fmt.Errorf("penalty %s: constructor %q is not in constructors.csv", p.ID, p.Target)
		}
	}
	for _, q := range s.Penalties {
		if q.ID == p.ID {
			return fmt.Errorf("penalty %s listed twice", p.ID)
		}
	}
	s.Penalties = append(s.Penalties, p)
	return nil
}

// PenaltyID returns the stable id of an archive penalty:
// f1db-SEASON-KIND-TARGET-rFROM, e.g. f1db-2020-constructor-racing-point-r5.
func PenaltyID(p f1.Penalty) string {
	return fmt.Sprintf("f1db-%d-%s-%s-r%d", p.Season, strings.ToLower(p.Kind), p.Target, p.FromRound)
}

// finish puts each session's results in replay order (the official
// display order), sets their Cars, and checks the display orders run from 1
// and that at most one car holds a session's fastest lap.
func (a *Archive) finish() error {
	slices.Sort(a.years)
	for _, year := range a.years {
		for _, r := range a.seasons[year].Rounds {
			for _, ss := range r.Sessions {
				// Replay order is the classification's display order.
				slices.SortStableFunc(ss.Results, func(x, y f1.Result) int { return x.Order - y.Order })
				fastest := 0
				for k := range ss.Results {
					res := &ss.Results[k]
					res.Cars = len(ss.Results)
					if res.Order != k+1 {
						return fmt.Errorf("archive: %d/%d %s: display orders are not 1 to %d", year, r.Round, ss.Kind, len(ss.Results))
					}
					if res.FastestLap {
						fastest++
					}
				}
				if fastest > 1 {
					return fmt.Errorf("archive: %d/%d %s: %d cars hold the fastest lap", year, r.Round, ss.Kind, fastest)
				}
			}
		}
	}
	return nil
}
