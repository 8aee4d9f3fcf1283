package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/progress"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// demoSeason and demoInterval are what `podium demo` replays: a season of
// the archive at race pace, one car every few seconds.
const (
	demoSeason   = 2021
	demoInterval = 5 * time.Second
)

func init() {
	addCommand(newF1Cmd)
	registerPipeline(pipeline{
		name: "f1",
		// The dashboard wires live updates through f1.Processors' notify
		// callback when it adds its pages.
		processors: func(*platform.App) []stream.Runnable { return f1.Processors(nil) },
		demo: func(ctx context.Context, a *app, p *platform.App) error {
			arc, err := archive.Load()
			if err != nil {
				return err
			}
			a.logger.Info("F1 demo: replaying the archive", "season", demoSeason, "interval", demoInterval)
			_, err = archive.Replay(ctx, p.Bus, arc, archive.ReplayOptions{Season: demoSeason, Interval: demoInterval}, nil)
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return nil
			}
			return err
		},
	})
}

func newF1Cmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "f1",
		Short: "F1 live championship: replay past seasons, show the standings",
		Long: `The F1 pipeline: race and sprint results flow on f1.results (one car per
message) and points penalties on f1.penalties; the f1-results and f1-penalties
processors keep the classifications and the drivers' and constructors'
championships after each round in the store.

The seasons 2019 to 2025 ship inside the binary and can be replayed onto the
bus. ` + archive.Attribution + `.`,
		Example: `  podium f1 replay --season 2021
  podium f1 standings --season 2021
  podium f1 standings --season 2021 --constructors --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newF1ReplayCmd(a), newF1StandingsCmd(a), newF1LiveCmd(a))
	return cmd
}

func newF1ReplayCmd(a *app) *cobra.Command {
	var opts archive.ReplayOptions
	var wait bool
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Publish a past season's results onto the bus, in race order",
		Long: `Publish the results of a season of the built-in archive (2019 to 2025) to
f1.results, in race order: rounds in calendar order, the sprint before the
race, cars from P1 down and the unclassified cars last, one car per message;
and the season's points penalties to f1.penalties, just before the round they
count from.

By default (--interval 0) it publishes as fast as the bus takes the messages.
Use --interval 5s for the classic demo pace, one car every five seconds,
and watch the standings move.

A replay is idempotent: results are upserted by season/round/session/car and
penalties by id, so replaying a season again changes nothing (JetStream even
drops the duplicate messages).

With the embedded bus and no other podium process on the data dir, replay
also runs the F1 processors until they have applied everything, so that
"podium f1 standings" shows the result right after. With an external bus, or
while podium serve (or demo, or a worker) runs, it only publishes: that
process applies the results; --wait waits until it has.

` + archive.Attribution + `.`,
		Example: `  # Load the 2021 season, then show the championship
  podium f1 replay --season 2021
  podium f1 standings --season 2021

  # Replay the last three rounds of 2023 at the demo pace
  podium f1 replay --season 2023 --from-round 20 --interval 5s

  # Publish to a running podium serve and wait until it applied everything
  podium f1 replay --season 2024 --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			arc, err := archive.Load()
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("season") {
				seasons := arc.Seasons()
				return usageErrorf("--season is required: the seasons available are %d to %d", seasons[0], seasons[len(seasons)-1])
			}
			if err := opts.Validate(arc); err != nil {
				return usageError{err}
			}
			return a.f1Replay(cmd.Context(), arc, opts, wait)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Season, "season", 0, "season to replay, 2019 to 2025 (required)")
	f.IntVar(&opts.FromRound, "from-round", 0, "first round to replay (default: the first)")
	f.IntVar(&opts.ToRound, "to-round", 0, "last round to replay (default: the last)")
	f.DurationVar(&opts.Interval, "interval", 0, "pause between two messages, e.g. 5s for the demo pace (0: as fast as possible)")
	f.BoolVar(&wait, "wait", false, "when another process runs the processors, wait until they applied everything")
	return cmd
}

// f1Replay publishes opts and, with a bus of its own, applies it.
func (a *app) f1Replay(ctx context.Context, arc *archive.Archive, opts archive.ReplayOptions, wait bool) error {
	p, err := platform.Open(ctx, a.cfg, a.logger, platform.Client, "f1 replay")
	if err != nil {
		return err
	}
	defer p.Close()
	procs := f1.Processors(nil)
	local := a.cfg.Bus == "" && !p.Remote
	env := p.Env()

	// With a bus of our own and a pace, apply as we go, so that the
	// standings move while the replay runs.
	stopLive := func() error { return nil }
	if local && opts.Interval > 0 {
		liveCtx, cancel := context.WithCancel(ctx)
		errc := make(chan error, len(procs))
		for _, pr := range procs {
			go func() { errc <- pr.Run(liveCtx, env) }()
		}
		stopLive = func() error {
			cancel()
			var errs []error
			for range procs {
				errs = append(errs, <-errc)
			}
			return errors.Join(errs...)
		}
	}
	bar := progress.New(a.stderr, fmt.Sprintf("replay %d", opts.Season), 0)
	n, err := archive.Replay(ctx, p.Bus, arc, opts, bar)
	if lerr := stopLive(); lerr != nil && err == nil {
		err = fmt.Errorf("apply the replayed results: %w", lerr)
	}
	if err != nil {
		return err
	}
	a.logger.Info("replay published", "season", opts.Season, "from_round", opts.FromRound, "to_round", opts.ToRound, "messages", n)

	if local {
		if err := ops.CatchUp(ctx, env, procs, progress.New(a.stderr, "apply", 0)); err != nil {
			return fmt.Errorf("apply the replayed results: %w", err)
		}
		fmt.Fprintf(a.stderr, "season %d rounds %d to %d applied: podium f1 standings --season %d\n", opts.Season, opts.FromRound, opts.ToRound, opts.Season)
		return nil
	}
	if !wait {
		fmt.Fprintf(a.stderr, "published %d messages; the process running the F1 processors (podium serve, demo or a worker) applies them\n", n)
		return nil
	}
	return a.f1Wait(ctx, env, procs)
}

// f1Wait polls the F1 processors' lag until it is 0.
func (a *app) f1Wait(ctx context.Context, env stream.Env, procs []stream.Runnable) error {
	specs := specs(procs)
	for _, sp := range specs {
		// Lags reads the positions table, which may not exist yet.
		if err := stream.Migrate(ctx, env.Store, sp); err != nil {
			return err
		}
	}
	fmt.Fprintln(a.stderr, "waiting for the F1 processors (podium serve, demo or a worker) to apply the results; Ctrl-C stops waiting")
	bar := progress.New(a.stderr, "apply", 0)
	var first int64 = -1
	hinted := false
	start := time.Now()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		lags, err := stream.Lags(ctx, env.Bus, env.Store.DB(), specs)
		if err != nil {
			return fmt.Errorf("read the F1 processors' lag: %w", err)
		}
		var lag int64
		for _, l := range lags {
			lag += l.Lag
		}
		if first < 0 {
			first = lag
			bar.SetTotal(first)
		}
		bar.Set(max(first-lag, 0))
		if lag == 0 {
			bar.Finish()
			return nil
		}
		if !hinted && lag == first && time.Since(start) > 15*time.Second {
			hinted = true
			fmt.Fprintf(a.stderr, "\nno progress in 15s: is a process running the F1 processors on store %s?\n", env.Store)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func newF1StandingsCmd(a *app) *cobra.Command {
	var season, round int
	var format string
	var constructors bool
	cmd := &cobra.Command{
		Use:   "standings",
		Short: "Show the drivers' or constructors' championship after a round",
		Long: `Show a championship as the store has it: the drivers' (default) or, with
--constructors, the constructors', after the latest round with results or
after --round. Positions follow the regulations: points, then countback over
Grand Prix results (most wins, then most second places, ...); drivers and
teams on 0 points are ranked too.

The season defaults to the latest one in the store. Output is a table, or CSV
or JSON for scripts (--format).`,
		Example: `  podium f1 standings
  podium f1 standings --season 2021 --round 12
  podium f1 standings --season 2020 --constructors
  podium f1 standings --season 2023 --format json | jq '.[0]'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ops.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			if round < 0 {
				return usageErrorf("--round %d: must be 1 or more (0 for the latest)", round)
			}
			ctx := cmd.Context()
			// The store alone: no need for the bus.
			s, err := store.Open(ctx, a.cfg.ResolvedStore())
			if err != nil {
				return err
			}
			defer s.Close()
			for _, pr := range f1.Processors(nil) {
				// Creates the (empty) tables if no F1 processor ran yet.
				if err := stream.Migrate(ctx, s, pr.Spec()); err != nil {
					return err
				}
			}
			if season == 0 {
				seasons, err := f1.Seasons(ctx, s.DB())
				if err != nil {
					return err
				}
				if len(seasons) == 0 {
					return errors.New("the store has no F1 results yet: load a season with podium f1 replay --season 2021")
				}
				season = seasons[0].Season
			}
			rounds, err := f1.Rounds(ctx, s.DB(), season)
			if err != nil {
				return err
			}
			if len(rounds) == 0 {
				return fmt.Errorf("the store has no F1 results of %d: load them with podium f1 replay --season %d", season, season)
			}
			last := rounds[len(rounds)-1]
			if round == 0 {
				round = last.Round
			}
			var title string
			for _, r := range rounds {
				if r.Round == round {
					title = fmt.Sprintf("%d %s championship after round %d, %s", season, map[bool]string{true: "constructors'", false: "drivers'"}[constructors], round, r.GrandPrix)
				}
			}
			if title == "" {
				return fmt.Errorf("the store has no results of %d round %d: it has rounds %d to %d", season, round, rounds[0].Round, last.Round)
			}
			if constructors {
				cs, err := f1.ConstructorStandings(ctx, s.DB(), season, round)
				if err != nil {
					return err
				}
				if f == ops.Table {
					fmt.Fprintln(a.stderr, title)
				}
				return writeConstructorStandings(a.stdout, cs, f)
			}
			ds, err := f1.DriverStandings(ctx, s.DB(), season, round)
			if err != nil {
				return err
			}
			if f == ops.Table {
				fmt.Fprintln(a.stderr, title)
			}
			return writeDriverStandings(a.stdout, ds, f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&season, "season", 0, "season (default: the latest in the store)")
	fl.IntVar(&round, "round", 0, "standings after this round (default: the latest with results)")
	fl.StringVar(&format, "format", "table", "output format: table, csv or json")
	fl.BoolVar(&constructors, "constructors", false, "show the constructors' championship instead of the drivers'")
	return cmd
}

func points(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

func writeDriverStandings(w io.Writer, ds []f1.DriverStanding, f ops.Format) error {
	switch f {
	case ops.JSON:
		return writeIndentedJSON(w, ds)
	case ops.CSV:
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"season", "round", "position", "driver_id", "driver_code", "driver_name", "team_id", "team_name", "points", "wins", "podiums"})
		for _, d := range ds {
			_ = cw.Write([]string{strconv.Itoa(d.Season), strconv.Itoa(d.Round), strconv.Itoa(d.Position), d.DriverID, d.DriverCode,
				d.DriverName, d.TeamID, d.TeamName, points(d.Points), strconv.Itoa(d.Wins), strconv.Itoa(d.Podiums)})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POS\tDRIVER\tCODE\tTEAM\tPOINTS\tWINS\tPODIUMS")
	for _, d := range ds {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\n", d.Position, d.DriverName, d.DriverCode, d.TeamName, points(d.Points), d.Wins, d.Podiums)
	}
	return tw.Flush()
}

func writeConstructorStandings(w io.Writer, cs []f1.ConstructorStanding, f ops.Format) error {
	switch f {
	case ops.JSON:
		return writeIndentedJSON(w, cs)
	case ops.CSV:
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"season", "round", "position", "team_id", "team_name", "points", "wins", "podiums"})
		for _, c := range cs {
			_ = cw.Write([]string{strconv.Itoa(c.Season), strconv.Itoa(c.Round), strconv.Itoa(c.Position), c.TeamID, c.TeamName,
				points(c.Points), strconv.Itoa(c.Wins), strconv.Itoa(c.Podiums)})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POS\tTEAM\tPOINTS\tWINS\tPODIUMS")
	for _, c := range cs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\n", c.Position, c.TeamName, points(c.Points), c.Wins, c.Podiums)
	}
	return tw.Flush()
}

func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
