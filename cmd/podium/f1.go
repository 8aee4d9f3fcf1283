package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/dashboard"
	"github.com/podiumhq/podium/internal/f1/openf1"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/progress"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// The settings of `podium demo`'s F1 feed: a season of the archive replayed
// at a watchable pace, the first result at once.
const (
	settingDemoSeason   = "f1.demo_season"
	settingDemoInterval = "f1.demo_interval"
	// defaultDemoSeason is in the archive (TestF1DemoSettings checks it).
	defaultDemoSeason   = "2023"
	defaultDemoInterval = "5s"
)

// f1Settings are the settings of the F1 pipeline's commands.
func f1Settings() []config.Setting {
	return []config.Setting{
		{Key: settingDemoSeason, Env: "PODIUM_F1_DEMO_SEASON", Default: defaultDemoSeason, Kind: config.KindInt,
			Check: checkDemoSeason, Usage: "season of the F1 archive that podium demo replays (2019 to 2025)"},
		{Key: settingDemoInterval, Env: "PODIUM_F1_DEMO_INTERVAL", Default: defaultDemoInterval, Kind: config.KindDuration,
			Usage: "pause between two results of podium demo's F1 replay (0: all at once)"},
	}
}

// f1Pipeline is the F1 pipeline: the f1-results and f1-penalties stages,
// which tell the pages after each commit, the dashboard (home), and the
// demo's replay of a season.
func (a *app) f1Pipeline(p *platform.App) platform.Pipeline {
	return platform.Pipeline{
		Name:   "f1",
		Stages: f1.Processors(dashboard.Notify(p.Notices)),
		Routes: func(srv *web.Server) { f1Routes(p, srv) },
		Home:   true,
		Demo:   []platform.Service{{Name: "F1 demo feed", Once: true, Run: func(ctx context.Context) error { return f1Demo(ctx, a, p) }}},
	}
}

// checkDemoSeason accepts the seasons of the archive. The default is
// accepted without parsing the archive, which every command would pay for.
func checkDemoSeason(v string) error {
	if v == defaultDemoSeason {
		return nil
	}
	season, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("use a season of the F1 archive, such as %s", defaultDemoSeason)
	}
	arc, err := archive.Load()
	if err != nil {
		return err
	}
	if _, ok := arc.Season(season); !ok {
		seasons := arc.Seasons()
		return fmt.Errorf("season %d is not in the F1 archive: use %d to %d", season, seasons[0], seasons[len(seasons)-1])
	}
	return nil
}

// f1Demo is the F1 demo feed: it replays the configured season of the
// archive (f1.demo_season), one result per f1.demo_interval, the first at
// once, until the season ends or ctx does.
func f1Demo(ctx context.Context, a *app, p *platform.App) error {
	arc, err := archive.Load()
	if err != nil {
		return err
	}
	opts := archive.ReplayOptions{
		Season:   int(a.cfg.Get(settingDemoSeason).Int()),
		Interval: a.cfg.Get(settingDemoInterval).Duration(),
	}
	if err := opts.Validate(arc); err != nil {
		return fmt.Errorf("F1 demo (%s, %s): %w", settingDemoSeason, settingDemoInterval, err)
	}
	a.logger.Info("F1 demo: replaying the archive", "season", opts.Season, "interval", opts.Interval)
	n, err := archive.Replay(ctx, p.Bus, arc, opts, nil)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return err
	}
	a.logger.Info("F1 demo: season replayed", "season", opts.Season, "messages", n)
	return nil
}

func newF1Cmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "f1",
		Short: "F1 live championship: replay past seasons, show the standings and race results",
		Long: `The F1 pipeline: race and sprint results flow on f1.results (one car per
message) and points penalties on f1.penalties; the f1-results and f1-penalties
processors keep the classifications and the drivers' and constructors'
championships after each round in the store.

The seasons 2019 to 2025 ship inside the binary and can be replayed onto the
bus; "podium demo" replays one (f1.demo_season, default ` + defaultDemoSeason + `) at a watchable
pace (f1.demo_interval, default ` + defaultDemoInterval + ` per result; env PODIUM_F1_DEMO_SEASON and
PODIUM_F1_DEMO_INTERVAL). ` + archive.Attribution + `.`,
		Example: `  podium f1 replay --season 2021
  podium f1 standings --season 2021
  podium f1 standings --season 2021 --constructors --format json
  podium f1 race --season 2021 --round 12
  podium f1 standings --season 2023 --after-round 17 --contention
  podium f1 amendments --season 2023`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newF1ReplayCmd(a), newF1StandingsCmd(a), newF1RaceCmd(a), newF1LiveCmd(a), newF1RecordCmd(a), newF1AmendmentsCmd(a))
	return cmd
}

func newF1ReplayCmd(a *app) *cobra.Command {
	var opts archive.ReplayOptions
	var wait bool
	var file string
	var speed float64
	var delay time.Duration
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Publish a past season's results, or a recorded session, onto the bus",
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

With --file it plays a session recorded by podium f1 record through the live
path instead, as if it arrived again: drivers, running order, gaps, race
control on f1.live, then the results on f1.results, paced as recorded divided
by --speed (0: as fast as possible); --delay holds every update back, like a
broadcast delay. Open the race page of podium serve to watch it.

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
  podium f1 replay --season 2024 --wait

  # Watch a recorded race again, ten times faster
  podium f1 replay --file bahrain-2025.ndjson --speed 10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			arc, err := archive.Load()
			if err != nil {
				return err
			}
			if file != "" {
				for _, name := range []string{"season", "from-round", "to-round", "interval"} {
					if cmd.Flags().Changed(name) {
						return usageErrorf("--%s replays the archive; --file replays a recording: give one or the other", name)
					}
				}
				if speed < 0 || delay < 0 {
					return usageErrorf("--speed and --delay must not be negative (--speed 0 plays as fast as possible)")
				}
				return a.f1ReplayFile(cmd.Context(), arc, file, speed, delay, wait)
			}
			if cmd.Flags().Changed("speed") || cmd.Flags().Changed("delay") {
				return usageErrorf("--speed and --delay apply to a recording: add --file FILE")
			}
			if !cmd.Flags().Changed("season") {
				seasons := arc.Seasons()
				return usageErrorf("--season is required: the seasons available are %d to %d (or --file FILE for a recorded session)", seasons[0], seasons[len(seasons)-1])
			}
			if err := opts.Validate(arc); err != nil {
				return usageError{err}
			}
			return a.f1Replay(cmd.Context(), arc, opts, wait)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Season, "season", 0, "season to replay, 2019 to 2025 (required without --file)")
	f.IntVar(&opts.FromRound, "from-round", 0, "first round to replay (default: the first)")
	f.IntVar(&opts.ToRound, "to-round", 0, "last round to replay (default: the last)")
	f.DurationVar(&opts.Interval, "interval", 0, "pause between two messages, e.g. 5s for the demo pace (0: as fast as possible)")
	f.BoolVar(&wait, "wait", false, "when another process runs the processors, wait until they applied everything")
	f.StringVar(&file, "file", "", "play a recording of podium f1 record through the live path")
	f.Float64Var(&speed, "speed", 1, "with --file: playing speed, e.g. 10 for ten times faster (0: as fast as possible)")
	f.DurationVar(&delay, "delay", 0, "with --file: broadcast delay, hold every update back this long")
	return cmd
}

// f1Replay publishes opts and, with a bus of its own, applies it.
func (a *app) f1Replay(ctx context.Context, arc *archive.Archive, opts archive.ReplayOptions, wait bool) error {
	publish := func(ctx context.Context, b bus.Bus) (int, error) {
		bar := progress.New(a.stderr, fmt.Sprintf("replay %d", opts.Season), 0)
		n, err := archive.Replay(ctx, b, arc, opts, bar)
		if err == nil {
			a.logger.Info("replay published", "season", opts.Season, "from_round", opts.FromRound, "to_round", opts.ToRound, "messages", n)
		}
		return n, err
	}
	done := fmt.Sprintf("season %d rounds %d to %d applied: podium f1 standings --season %d", opts.Season, opts.FromRound, opts.ToRound, opts.Season)
	return a.f1Publish(ctx, "f1 replay", opts.Interval > 0, publish, done, wait)
}

// f1ReplayFile plays a recording through the live path and, with a bus of
// its own, applies it.
func (a *app) f1ReplayFile(ctx context.Context, arc *archive.Archive, file string, speed float64, delay time.Duration, wait bool) error {
	fh, err := os.Open(file)
	if err != nil {
		return usageErrorf("cannot read the recording: %v", err)
	}
	rec, err := openf1.ReadRecording(fh)
	_ = fh.Close()
	if err != nil {
		return fmt.Errorf("%s: %w (is it a file written by podium f1 record?)", file, err)
	}
	publish := func(ctx context.Context, b bus.Bus) (int, error) {
		if err := ensureLiveTopic(ctx, b); err != nil {
			return 0, err
		}
		f := &openf1.Follower{Resolver: arc.Identities(), Logger: a.logger, Delay: delay}
		bar := progress.New(a.stderr, fmt.Sprintf("replay session %d", rec.Header.SessionKey), 0)
		return len(rec.Rows), f.RunRecording(ctx, b, rec, speed, bar)
	}
	done := fmt.Sprintf("recording of session %d applied: podium f1 race, or the race page of podium serve", rec.Header.SessionKey)
	return a.f1Publish(ctx, "f1 replay", speed > 0 || delay > 0, publish, done, wait)
}

// f1Publish runs publish on the bus of the configuration. With a bus of its
// own it applies what was published with the F1 processors — as it goes
// when paced, so that the standings move while it runs — and prints done;
// otherwise another process applies it, and wait waits until it has.
func (a *app) f1Publish(ctx context.Context, name string, paced bool, publish func(context.Context, bus.Bus) (int, error), done string, wait bool) error {
	p, err := platform.Open(ctx, a.cfg, a.logger, platform.Client, name)
	if err != nil {
		return err
	}
	defer p.Close()
	procs := f1.Processors(nil)
	local := a.cfg.Bus == "" && !p.Remote
	env := p.Env()

	stopLive := func() error { return nil }
	if local && paced {
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
	n, err := publish(ctx, p.Bus)
	if lerr := stopLive(); lerr != nil && err == nil {
		err = fmt.Errorf("apply what was published: %w", lerr)
	}
	if err != nil {
		return err
	}
	if local {
		if err := ops.CatchUp(ctx, env, procs, progress.New(a.stderr, "apply", 0)); err != nil {
			return fmt.Errorf("apply what was published: %w", err)
		}
		fmt.Fprintln(a.stderr, done)
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
	specs := platform.Specs(procs)
	for _, sp := range specs {
		// Lags reads the positions table, which may not exist yet.
		if err := stream.Migrate(ctx, env.Store, sp); err != nil {
			return err
		}
	}
	fmt.Fprintln(a.stderr, "waiting for the F1 processors (podium serve, demo or a worker) to apply the results; Ctrl-C stops waiting")
	bar := progress.New(a.stderr, "apply", 0)
	err := ops.WaitCaughtUp(ctx, env.Bus, env.Store.DB(), specs, 500*time.Millisecond, bar, func() {
		fmt.Fprintf(a.stderr, "\nno progress in 15s: is a process running the F1 processors on store %s?\n", env.Store)
	})
	if err != nil {
		return err
	}
	bar.Finish()
	return nil
}
