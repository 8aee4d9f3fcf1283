package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// The read commands of the F1 pipeline: `podium f1 standings` and
// `podium f1 race` print what the store holds; they need no bus.

func newF1StandingsCmd(a *app) *cobra.Command {
	var season, afterRound, round int
	var format string
	var constructors, contention bool
	cmd := &cobra.Command{
		Use:   "standings",
		Short: "Show the drivers' or constructors' championship after a round",
		Long: `Show a championship as the store has it: the drivers' (default) or, with
--constructors, the constructors', after the latest round with results or
after --after-round. Positions follow the regulations: points, then countback
over Grand Prix results (most wins, then most second places, ...); drivers and
teams on 0 points are ranked too. A result's points go to the team the driver
drove for in that session.

Wins and podiums count Grand Prix results; sprint wins are counted apart (the
SPRINT WINS column of the table, for seasons with sprints, and sprint_wins in
JSON).

The season defaults to the latest one in the store. Output is a table, or CSV
or JSON for scripts (--format). The CSV columns are
position,id,name,points,wins,podiums, where id is the archive's driver or
constructor id (max-verstappen, red-bull); JSON objects have the same keys
and more (sprint_wins, code, team, round_points, season, round).

--contention shows the title maths instead, after the same round, for the
seasons whose calendar podium knows (the archive's, 2019 to 2025): each
driver's (or constructor's) points, the most it can still finish on (MAX:
every remaining race won, with the fastest-lap point where the season has
one, every remaining sprint won; a constructor's cars first and second),
whether it can still win the title, the points it must still score to be
champion whatever its rivals do (TO CLINCH: more than any rival's MAX; a
tie goes to countback), and, on stderr, what is still to be won and when
the title was clinched. A rival level on points at the end would be ranked
by countback (Grand Prix wins, then second places, ...): a competitor that
can only draw level is still in contention when its record with those wins
added would beat the leader's, or equal it to the last place (the FIA then
decides). The CSV columns are
position,id,name,points,max_points,in_contention,needed,champion; JSON
objects have the same keys. The championship page shows the same maths.`,
		Example: `  podium f1 standings
  podium f1 standings --season 2021 --after-round 12
  podium f1 standings --season 2020 --constructors
  podium f1 standings --season 2023 --format csv
  podium f1 standings --season 2023 --format json | jq '.[0]'
  podium f1 standings --season 2023 --after-round 17 --contention`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ops.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			fl := cmd.Flags()
			if fl.Changed("round") {
				if fl.Changed("after-round") && round != afterRound {
					return usageErrorf("--round is the old name of --after-round: give one of them")
				}
				fmt.Fprintln(a.stderr, "podium: --round is deprecated: use --after-round")
				afterRound = round
			}
			ctx := cmd.Context()
			s, season, rounds, rd, err := a.openF1Round(ctx, season, afterRound, "--after-round")
			if err != nil {
				return err
			}
			defer s.Close()
			if contention {
				return a.f1Contention(ctx, s.DB(), season, rd.Round, f, constructors)
			}
			sprints := false
			for _, r := range rounds {
				sprints = sprints || r.HasSprint
			}
			which := map[bool]string{true: "constructors'", false: "drivers'"}[constructors]
			title := fmt.Sprintf("%d %s championship after round %d, %s", season, which, rd.Round, rd.GrandPrix)
			if constructors {
				cs, err := f1.ConstructorStandings(ctx, s.DB(), season, rd.Round)
				if err != nil {
					return err
				}
				if f == ops.Table {
					fmt.Fprintln(a.stderr, title)
				}
				return writeConstructorStandings(a.stdout, cs, f, sprints)
			}
			ds, err := f1.DriverStandings(ctx, s.DB(), season, rd.Round)
			if err != nil {
				return err
			}
			if f == ops.Table {
				fmt.Fprintln(a.stderr, title)
			}
			return writeDriverStandings(a.stdout, ds, f, sprints)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&season, "season", 0, "season (default: the latest in the store)")
	fl.IntVar(&afterRound, "after-round", 0, "standings after this round (default: the latest with results)")
	fl.IntVar(&round, "round", 0, "deprecated: use --after-round")
	_ = fl.MarkHidden("round")
	fl.StringVar(&format, "format", "table", "output format: table, csv or json")
	fl.BoolVar(&constructors, "constructors", false, "show the constructors' championship instead of the drivers'")
	fl.BoolVar(&contention, "contention", false, "show the title maths: who can still win, the most each can finish on, the points to clinch")
	return cmd
}

func newF1RaceCmd(a *app) *cobra.Command {
	var season, round int
	var sprint bool
	var format string
	cmd := &cobra.Command{
		Use:   "race",
		Short: "Show the classification of a race or sprint, with the points scored",
		Long: `Show a Grand Prix's classification as the store has it: position, car number,
driver, team, laps, time (the winner's) or gap, status and the points each car
scored; --sprint shows the weekend's sprint instead. Unclassified cars come
last, their status (DNF, DNS, DSQ, NC) in place of a position, with the
reason the source gives (REASON: "Car underweight"). A result's points are
the source's official figure when it has one (the archive, OpenF1's
session_result), else the season's rules'; the fastest-lap point counts only
when the fastest lap is official, and a race waiting for it is flagged
provisional. podium f1 amendments lists what later results changed.

The season defaults to the latest one in the store, the round to the
season's latest with results. Output is a table, or CSV or JSON for scripts
(--format); the CSV columns are
position,car_number,driver_id,driver_code,driver_name,team_id,team_name,laps,time,status,points,grid,fastest_lap,reason
(position and grid empty when there is none), and JSON objects have the same
keys and more: official_points (null when the source gave none) and
derived_points (what the rules give).`,
		Example: `  podium f1 race
  podium f1 race --season 2023 --round 5
  podium f1 race --season 2023 --round 4 --sprint
  podium f1 race --season 2021 --round 12 --format json | jq '.[0]'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ops.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			ctx := cmd.Context()
			s, season, _, rd, err := a.openF1Round(ctx, season, round, "--round")
			if err != nil {
				return err
			}
			defer s.Close()
			kind := f1.Race
			if sprint {
				kind = f1.Sprint
			}
			if err := f1StoredSession(season, rd, kind); err != nil {
				return err
			}
			cl, err := f1.Classification(ctx, s.DB(), season, rd.Round, kind)
			if err != nil {
				return err
			}
			if f == ops.Table {
				fmt.Fprintln(a.stderr, raceTitle(rd, kind, cl))
			}
			return writeClassification(a.stdout, cl, f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&season, "season", 0, "season (default: the latest in the store)")
	fl.IntVar(&round, "round", 0, "round of the season (default: the latest with results)")
	fl.BoolVar(&sprint, "sprint", false, "show the sprint of the weekend instead of the race")
	fl.StringVar(&format, "format", "table", "output format: table, csv or json")
	return cmd
}

// openF1Round checks the --season and round flags (roundFlag names the
// latter), opens the F1 store and finds the season and round they ask for
// (0: the latest in the store). The caller closes the store.
func (a *app) openF1Round(ctx context.Context, season, round int, roundFlag string) (*store.Store, int, []f1.RoundInfo, f1.RoundInfo, error) {
	if round < 0 {
		return nil, 0, nil, f1.RoundInfo{}, usageErrorf("%s %d: must be 1 or more (0 for the latest)", roundFlag, round)
	}
	if season < 0 {
		return nil, 0, nil, f1.RoundInfo{}, usageErrorf("--season %d: must be a year such as 2023", season)
	}
	s, err := a.openF1Store(ctx)
	if err != nil {
		return nil, 0, nil, f1.RoundInfo{}, err
	}
	season, rounds, err := f1StoredSeason(ctx, s.DB(), season)
	if err == nil {
		var rd f1.RoundInfo
		if rd, err = f1StoredRound(season, rounds, round); err == nil {
			return s, season, rounds, rd, nil
		}
	}
	s.Close()
	return nil, 0, nil, f1.RoundInfo{}, err
}

// openF1Store opens the store alone (the read commands need no bus) with
// the F1 tables, created empty if no F1 processor ran yet.
func (a *app) openF1Store(ctx context.Context) (*store.Store, error) {
	s, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	for _, pr := range f1.Processors(nil) {
		if err := stream.Migrate(ctx, s, pr.Spec()); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// replayHint suggests how to load season into the store.
func replayHint(season int) string {
	arc, err := archive.Load()
	if err != nil {
		return ""
	}
	if _, ok := arc.Season(season); ok {
		return fmt.Sprintf(": load it with podium f1 replay --season %d", season)
	}
	seasons := arc.Seasons()
	return fmt.Sprintf(": the archive has the seasons %d to %d (podium f1 replay --season %d); "+
		"podium f1 live follows a session on OpenF1", seasons[0], seasons[len(seasons)-1], seasons[len(seasons)-1])
}

// f1StoredSeason resolves season 0 to the latest season in the store and
// returns the season's rounds with results, or an error saying how to load
// it.
func f1StoredSeason(ctx context.Context, q f1.Queryer, season int) (int, []f1.RoundInfo, error) {
	if season == 0 {
		seasons, err := f1.Seasons(ctx, q)
		if err != nil {
			return 0, nil, err
		}
		if len(seasons) == 0 {
			return 0, nil, fmt.Errorf("the store has no F1 results yet: load a season with podium f1 replay --season %s", defaultDemoSeason)
		}
		season = seasons[0].Season
	}
	rounds, err := f1.Rounds(ctx, q, season)
	if err != nil {
		return 0, nil, err
	}
	if len(rounds) == 0 {
		return 0, nil, fmt.Errorf("the store has no F1 results of %d%s", season, replayHint(season))
	}
	return season, rounds, nil
}

// f1StoredRound returns round of rounds (0: the last), or an error saying
// what the store has and how to load the round.
func f1StoredRound(season int, rounds []f1.RoundInfo, round int) (f1.RoundInfo, error) {
	if round == 0 {
		return rounds[len(rounds)-1], nil
	}
	for _, r := range rounds {
		if r.Round == round {
			return r, nil
		}
	}
	has := fmt.Sprintf("it has %s", roundList(rounds))
	if arc, err := archive.Load(); err == nil {
		if s, ok := arc.Season(season); ok {
			if round > len(s.Rounds) {
				return f1.RoundInfo{}, fmt.Errorf("%d had %d rounds: there is no round %d (the store has %s)",
					season, len(s.Rounds), round, roundList(rounds))
			}
			return f1.RoundInfo{}, fmt.Errorf("the store has no results of %d round %d (%s): %s; load the season with podium f1 replay --season %d",
				season, round, s.Rounds[round-1].GrandPrix, has, season)
		}
	}
	return f1.RoundInfo{}, fmt.Errorf("the store has no results of %d round %d: %s", season, round, has)
}

// roundList describes the rounds in the store: "rounds 1 to 22", "round
// 5", "rounds 1, 2 and 7".
func roundList(rounds []f1.RoundInfo) string {
	first, last := rounds[0].Round, rounds[len(rounds)-1].Round
	switch {
	case len(rounds) == 1:
		return fmt.Sprintf("round %d", first)
	case last-first+1 == len(rounds):
		return fmt.Sprintf("rounds %d to %d", first, last)
	}
	ns := make([]string, len(rounds))
	for i, r := range rounds {
		ns[i] = strconv.Itoa(r.Round)
	}
	return "rounds " + strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
}

// f1StoredSession checks that the store has the session kind of rd, or
// says why not: the weekend had no sprint, or its results are not loaded.
func f1StoredSession(season int, rd f1.RoundInfo, kind string) error {
	for _, s := range rd.Sessions {
		if s.Session == kind {
			return nil
		}
	}
	name := map[string]string{f1.Race: "race", f1.Sprint: "sprint"}[kind]
	if arc, err := archive.Load(); err == nil {
		if ar, ok := arc.Round(season, rd.Round); ok {
			if _, ok := ar.Session(kind); !ok {
				return fmt.Errorf("%d round %d (%s) had no %s", season, rd.Round, rd.GrandPrix, name)
			}
			return fmt.Errorf("the store has no %s results of %d round %d (%s): load the season with podium f1 replay --season %d",
				name, season, rd.Round, rd.GrandPrix, season)
		}
	}
	return fmt.Errorf("the store has no %s results of %d round %d (%s)", name, season, rd.Round, rd.GrandPrix)
}

// raceTitle is the line above a classification table.
func raceTitle(rd f1.RoundInfo, kind string, cl []f1.ScoredResult) string {
	name := map[string]string{f1.Race: "race", f1.Sprint: "sprint"}[kind]
	title := fmt.Sprintf("%d round %d, %s: %s", rd.Season, rd.Round, rd.GrandPrix, name)
	if rd.Date != "" {
		title += " (" + rd.Date + ")"
	}
	for _, s := range rd.Sessions {
		if s.Session == kind && s.PointsScale != f1.ScaleFull && s.PointsScale != "" {
			title += ", points scale " + s.PointsScale
		}
		if s.Session == kind && s.Provisional {
			title += ", provisional (the fastest lap is not official yet: its point is not awarded)"
		}
	}
	for _, r := range cl {
		if r.FastestLap {
			title += ", fastest lap " + r.DriverName
		}
	}
	return title
}

func points(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// standingCSV is the header of the standings' CSV output.
var standingCSV = []string{"position", "id", "name", "points", "wins", "podiums"}

// driverStandingJSON is a line of the drivers' standings in JSON: the CSV
// columns, then more.
type driverStandingJSON struct {
	Position    int     `json:"position"`
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Points      float64 `json:"points"`
	Wins        int     `json:"wins"`
	Podiums     int     `json:"podiums"`
	SprintWins  int     `json:"sprint_wins"`
	Code        string  `json:"code"`
	TeamID      string  `json:"team_id"`
	TeamName    string  `json:"team_name"`
	TeamColour  string  `json:"team_colour,omitempty"`
	RoundPoints float64 `json:"round_points"`
	Season      int     `json:"season"`
	Round       int     `json:"round"`
}

// constructorStandingJSON is a line of the constructors' standings in
// JSON.
type constructorStandingJSON struct {
	Position    int     `json:"position"`
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Points      float64 `json:"points"`
	Wins        int     `json:"wins"`
	Podiums     int     `json:"podiums"`
	SprintWins  int     `json:"sprint_wins"`
	TeamColour  string  `json:"team_colour,omitempty"`
	RoundPoints float64 `json:"round_points"`
	Season      int     `json:"season"`
	Round       int     `json:"round"`
}

func writeDriverStandings(w io.Writer, ds []f1.DriverStanding, f ops.Format, sprints bool) error {
	switch f {
	case ops.JSON:
		out := make([]driverStandingJSON, len(ds))
		for i, d := range ds {
			out[i] = driverStandingJSON{Position: d.Position, ID: d.DriverID, Name: d.DriverName, Points: d.Points,
				Wins: d.Wins, Podiums: d.Podiums, SprintWins: d.SprintWins, Code: d.DriverCode, TeamID: d.TeamID,
				TeamName: d.TeamName, TeamColour: d.TeamColour, RoundPoints: d.RoundPoints, Season: d.Season, Round: d.Round}
		}
		return writeIndentedJSON(w, out)
	case ops.CSV:
		cw := csv.NewWriter(w)
		_ = cw.Write(standingCSV)
		for _, d := range ds {
			_ = cw.Write([]string{strconv.Itoa(d.Position), d.DriverID, d.DriverName, points(d.Points),
				strconv.Itoa(d.Wins), strconv.Itoa(d.Podiums)})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "POS\tDRIVER\tCODE\tTEAM\tPOINTS\tWINS\tPODIUMS"
	if sprints {
		head += "\tSPRINT WINS"
	}
	fmt.Fprintln(tw, head)
	for _, d := range ds {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d", d.Position, d.DriverName, d.DriverCode, d.TeamName, points(d.Points), d.Wins, d.Podiums)
		if sprints {
			fmt.Fprintf(tw, "\t%d", d.SprintWins)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func writeConstructorStandings(w io.Writer, cs []f1.ConstructorStanding, f ops.Format, sprints bool) error {
	switch f {
	case ops.JSON:
		out := make([]constructorStandingJSON, len(cs))
		for i, c := range cs {
			out[i] = constructorStandingJSON{Position: c.Position, ID: c.TeamID, Name: c.TeamName, Points: c.Points,
				Wins: c.Wins, Podiums: c.Podiums, SprintWins: c.SprintWins, TeamColour: c.TeamColour,
				RoundPoints: c.RoundPoints, Season: c.Season, Round: c.Round}
		}
		return writeIndentedJSON(w, out)
	case ops.CSV:
		cw := csv.NewWriter(w)
		_ = cw.Write(standingCSV)
		for _, c := range cs {
			_ = cw.Write([]string{strconv.Itoa(c.Position), c.TeamID, c.TeamName, points(c.Points),
				strconv.Itoa(c.Wins), strconv.Itoa(c.Podiums)})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "POS\tTEAM\tPOINTS\tWINS\tPODIUMS"
	if sprints {
		head += "\tSPRINT WINS"
	}
	fmt.Fprintln(tw, head)
	for _, c := range cs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d", c.Position, c.TeamName, points(c.Points), c.Wins, c.Podiums)
		if sprints {
			fmt.Fprintf(tw, "\t%d", c.SprintWins)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// classificationCSV is the header of the classification's CSV output, and
// the keys of its JSON objects.
var classificationCSV = []string{"position", "car_number", "driver_id", "driver_code", "driver_name", "team_id",
	"team_name", "laps", "time", "status", "points", "grid", "fastest_lap", "reason"}

// classificationJSON is a line of a classification in JSON.
type classificationJSON struct {
	Position   *int    `json:"position"`
	CarNumber  int     `json:"car_number"`
	DriverID   string  `json:"driver_id"`
	DriverCode string  `json:"driver_code"`
	DriverName string  `json:"driver_name"`
	TeamID     string  `json:"team_id"`
	TeamName   string  `json:"team_name"`
	Laps       int     `json:"laps"`
	Time       string  `json:"time"`
	Status     string  `json:"status"`
	Points     float64 `json:"points"`
	Grid       *int    `json:"grid"`
	FastestLap bool    `json:"fastest_lap"`
	Reason     string  `json:"reason"`
	// Official is the source's official figure, nil when none; Derived
	// what the rules give.
	Official *float64 `json:"official_points"`
	Derived  float64  `json:"derived_points"`
}

func optInt(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

func writeClassification(w io.Writer, cl []f1.ScoredResult, f ops.Format) error {
	switch f {
	case ops.JSON:
		out := make([]classificationJSON, len(cl))
		for i, r := range cl {
			out[i] = classificationJSON{Position: r.Position, CarNumber: r.CarNumber, DriverID: r.DriverID,
				DriverCode: r.DriverCode, DriverName: r.DriverName, TeamID: r.TeamID, TeamName: r.TeamName, Laps: r.Laps,
				Time: r.Time, Status: r.Status, Points: r.Points, Grid: r.Grid, FastestLap: r.FastestLap, Reason: r.Reason,
				Official: r.Result.Points, Derived: r.DerivedPoints}
		}
		return writeIndentedJSON(w, out)
	case ops.CSV:
		cw := csv.NewWriter(w)
		_ = cw.Write(classificationCSV)
		for _, r := range cl {
			_ = cw.Write([]string{optInt(r.Position), strconv.Itoa(r.CarNumber), r.DriverID, r.DriverCode, r.DriverName,
				r.TeamID, r.TeamName, strconv.Itoa(r.Laps), r.Time, r.Status, points(r.Points), optInt(r.Grid),
				strconv.FormatBool(r.FastestLap), r.Reason})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POS\tNO\tDRIVER\tTEAM\tLAPS\tTIME/GAP\tSTATUS\tPOINTS\tREASON")
	for _, r := range cl {
		pos := r.Status
		if r.Position != nil && r.Status == f1.Finished {
			pos = strconv.Itoa(*r.Position)
		}
		// An unclassified car has no place, so no gap to show (the road
		// gap of a disqualified car stays in the CSV and JSON).
		gap, reason := r.Time, ""
		if r.Status != f1.Finished {
			gap, reason = "", r.Reason
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", pos, r.CarNumber, r.DriverName, r.TeamName, r.Laps,
			gap, r.Status, points(r.Points), reason)
	}
	return tw.Flush()
}

func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
