package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/bi"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/commute"
	"github.com/podiumhq/podium/internal/activities/generate"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/ingest"
	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/activities/notify"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/activities/review"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/progress"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// activitiesSettings are the settings of the activities pipeline.
func activitiesSettings() []config.Setting {
	return slices.Concat(commute.Settings(), notify.Settings(), rewards.Settings(), ingest.Settings(), lake.Settings(), cdc.Settings(),
		bi.Settings(),
		[]config.Setting{
			{Key: keyDemoPace, Default: "5s", Kind: config.KindDuration,
				Usage: "podium demo: one new live activity every this long, after the backfill",
				Check: func(v string) error {
					if d, err := time.ParseDuration(v); err == nil && d <= 0 {
						return fmt.Errorf("use a positive duration such as 5s")
					}
					return nil
				}},
			{Key: keyExpectations, Flag: "suite", LocalFlag: true,
				Usage: "YAML file of data-quality expectations for the activity stream; empty uses the built-in suite"},
		})
}

// activitiesPipeline is the activities pipeline: the quality, rewards,
// Slack and lakehouse stages; the Activities page, the API and the Strava
// webhook; the change-data capture and the Strava worker as sources; the
// demo's sample data.
func (a *app) activitiesPipeline(p *platform.App) platform.Pipeline {
	// A policy the configuration gets wrong stops the stages that use it,
	// with the reason (their Run validates it).
	policy, _ := rewards.PolicyFromConfig(p.Config)
	stages := []stream.Runnable{
		// The raw change events become the validated stream the other
		// stages read; the failing ones are quarantined.
		qualityStage{p: p},
		// Silver (activities_current) and gold (activities_gold) tables.
		rewards.Processor(policy, rewards.Notify(p.Notices)),
		// The Slack congratulations: one message per new live activity.
		notify.Stage(notify.FromConfig(p.Config, p.Log)),
	}
	if lake.Enabled(p.Config) {
		// The Iceberg bronze, silver and gold tables.
		cfg := lake.FromConfig(p.Config)
		cfg.Policy = policy
		cfg.RulesVersion = rulesVersion(p.Config)
		stages = append(stages, lake.Runnable(cfg))
	}
	strava := ingest.NewStrava(p.Store, ingest.StravaConfigFrom(p.Config, p.Log))
	reviews := &review.Queue{Store: p.Store, Bus: p.Bus, Log: p.Log}
	return platform.Pipeline{
		Name:   "activities",
		Stages: stages,
		Routes: func(srv *web.Server) {
			rewards.HandlePage(srv, p.Store.DB(), companyLocation(p.Config), p.Log)
			ingest.NewAPI(p.Store, ingest.APIConfigFrom(p.Config, p.Log)).Register(srv.Mux)
			strava.Register(srv.Mux)
			review.Handle(srv, review.PageConfig{Token: p.Config.Get(ingest.KeyAPIToken).String(),
				Queue: reviews, Log: p.Log})
		},
		Sources: []platform.Service{
			{Name: "change-data capture of sport_activities", Run: func(ctx context.Context) error {
				cfg := cdc.FromConfig(a.cfg, a.logger)
				cfg.Metrics = cdc.NewMetrics(p.Registry)
				c, err := cdc.New(p.Store, cfg)
				if err != nil {
					return fmt.Errorf("change-data capture of sport_activities cannot start: %w", err)
				}
				cdc.Supervise(ctx, c, p.Bus, a.logger)
				return nil
			}},
			{Name: "Strava webhook worker", Run: func(ctx context.Context) error {
				strava.Run(ctx)
				return nil
			}},
			{Name: "review releases", Run: func(ctx context.Context) error {
				// Approvals the bus refused reach rewards and the lake
				// once it is back.
				reviews.Run(ctx, review.DefaultReleaseInterval)
				return nil
			}},
			// Once: on SQLite, or without bi.key_secret, it has nothing to
			// do and returns at once; on PostgreSQL it runs until ctx ends.
			{Name: "BI reporting schema", Once: true, Run: func(ctx context.Context) error {
				biSchema(ctx, p)
				return nil
			}},
		},
		// The demo imports the sample register, checks the commutes,
		// backfills the previous calendar year and goes on live.
		Demo:   []platform.Service{{Name: "activities demo feed", Once: true, Run: func(ctx context.Context) error { return a.activitiesDemo(ctx, p) }}},
		Tables: slices.Concat(commute.Tables, hr.Tables, ingest.Tables, []string{quality.TableReviews}),
	}
}

// activitiesDemo is the demo's feed: the sample HR register, its
// commutes, last year's activities, then a new one every demo pace.
func (a *app) activitiesDemo(ctx context.Context, p *platform.App) error {
	imp, err := hr.ImportSample(ctx, p.Store)
	if err != nil {
		return err
	}
	a.logger.Info("activities demo: sample HR register imported", "summary", imp.Summary())
	cfg, office, err := commute.FromConfig(a.cfg)
	if err != nil {
		return err
	}
	sum, err := commute.Run(ctx, p.Store, cfg, office)
	if err != nil {
		return err
	}
	a.logger.Info("activities demo: commutes checked", "summary", sum.String())
	loc := companyLocation(a.cfg)
	year := generate.Config{Year: time.Now().In(loc).Year() - 1, Seed: 1, Location: loc}
	return generateActivities(ctx, a, p.Store, year, true, a.cfg.Get(keyDemoPace).Duration())
}

// keyDemoPace is the setting of the demo's live pace.
const keyDemoPace = "activities.demo_pace"

// companyLocation returns the company's time zone (setting
// activities.timezone, checked when the configuration loads).
func companyLocation(cfg config.Config) *time.Location {
	loc, err := time.LoadLocation(cfg.Get(rewards.KeyTimeZone).String())
	if err != nil {
		return time.UTC
	}
	return loc
}

func newActivitiesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "activities",
		Short: "Employee sport activities: HR register, commutes, activity stream",
		Long: `The employee sport activities pipeline: an HR register, each employee's
home-to-office distance and a stream of sport activities, turned into a sports
bonus (for commuting by sport) and wellness days (for practising often).

Salaries, birth dates and addresses are personal data: podium keeps them in
the store's hr_ tables and never puts them in topics, logs or the dashboard.`,
		Example: `  podium activities import-hr register.xlsx
  podium activities commute
  podium activities report --year 2025 --format xlsx --output rewards-2025.xlsx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newImportHRCmd(a), newCommuteCmd(a), newGenerateCmd(a), newCaptureCmd(a), newCDCCmd(a), newReportCmd(a),
		newValidateCmd(a), newLakeCmd(a), newStravaCmd(a), newReviewCmd(a), newExportCmd(a), newEraseCmd(a), newBIRoleCmd(a))
	return cmd
}

// openStore opens the configured store alone (the commands that need no
// bus).
func (a *app) openStore(ctx context.Context) (*store.Store, error) {
	return store.Open(ctx, a.cfg.ResolvedStore())
}

func newImportHRCmd(a *app) *cobra.Command {
	var sports string
	var strict bool
	cmd := &cobra.Command{
		Use:   "import-hr FILE.xlsx|FILE.csv",
		Short: "Import the HR register (and the sports practised) from a spreadsheet",
		Long: `Import the employee register from an Excel workbook (.xlsx) or a CSV file:
employee id, names, birth date, business unit, hire date, gross salary,
contract type, paid-leave days, home address (optionally latitude and
longitude), commute mode; and the sports practised, from a "Sports" sheet of
the workbook or from --sports FILE.

French headers as HR files have them (ID salarié, Nom, Prénom, Date de
naissance, BU, Date d'embauche, Salaire brut, Type de contrat, Nombre de jours
de CP, Adresse du domicile, Moyen de déplacement; Pratique d'un sport) and
English ones are both recognised. CSV files may use ; or , and UTF-8 (with or
without BOM) or Windows-1252; dates dd/mm/yyyy or ISO.

Every rejected row is listed with its sheet, row number (as the spreadsheet
shows it), column and reason; the good rows are imported. Importing again
updates the employees in place.`,
		Example: `  podium activities import-hr register.xlsx
  podium activities import-hr salaries.csv --sports sports.csv
  podium activities import-hr register.xlsx --strict   # exit 1 if any row is rejected`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			imp, err := hr.ImportFile(cmd.Context(), s, args[0], sports, hr.Options{})
			for _, src := range imp.Sources {
				fmt.Fprintf(a.stderr, "read %s\n", src)
			}
			for _, e := range imp.Errors {
				fmt.Fprintf(a.stderr, "rejected: %s\n", e.Error())
			}
			for _, w := range imp.Warnings {
				fmt.Fprintf(a.stderr, "warning: %s\n", w.String())
			}
			if err != nil {
				return fmt.Errorf("import %s: %w", args[0], err)
			}
			fmt.Fprintln(a.stderr, imp.Summary())
			if strict && imp.Rejected+imp.SportsRejected > 0 {
				return fmt.Errorf("%d rows rejected (--strict): fix them in the file and import again", imp.Rejected+imp.SportsRejected)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&sports, "sports", "", "separate file of the sports practised (employee id, sport)")
	cmd.Flags().BoolVar(&strict, "strict", false, "exit with an error when any row is rejected")
	return cmd
}

func newCommuteCmd(a *app) *cobra.Command {
	var recompute bool
	cmd := &cobra.Command{
		Use:   "commute",
		Short: "Compute the missing home-to-office distances",
		Long: `Compute each employee's home-to-office distance where it is missing or the
address changed, and cache it in the store. The offline default uses the
register's coordinates (great-circle distance times a road factor); OSRM or
Google compute real routes, and Nominatim or Google place homes known only by
their address. A home that cannot be placed gets no distance and is flagged
for HR: no bonus is ever paid on a guess.`,
		Example: `  podium activities commute
  podium activities commute --commute-router osrm --commute-osrm-url http://localhost:5000 --commute-geocoder nominatim
  PODIUM_COMMUTE_GOOGLE_API_KEY=... podium activities commute --commute-router google --commute-geocoder google`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, office, err := commute.FromConfig(a.cfg)
			if err != nil {
				return usageError{err}
			}
			p, err := commute.New(cfg)
			if err != nil {
				return usageError{err}
			}
			s, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			if err := commute.Migrate(cmd.Context(), s); err != nil {
				return err
			}
			bar := progress.New(a.stderr, "commute", 0)
			sum, err := commute.CheckWith(cmd.Context(), s.DB(), p, office, commute.CheckOptions{
				Recompute: recompute,
				Progress:  func(done, total int) { bar.SetTotal(int64(total)); bar.Set(int64(done)) },
			})
			bar.Finish()
			if err != nil {
				return err
			}
			for _, f := range sum.Review {
				fmt.Fprintf(a.stderr, "for HR review: employee %s: %s\n", f.EmployeeID, f.Reason)
			}
			fmt.Fprintln(a.stderr, sum.String())
			return nil
		},
	}
	config.AddSettingFlags(cmd.Flags(), "commute.router", "commute.geocoder", "commute.road_factor", "commute.osrm_url",
		"commute.osrm_profiles", "commute.nominatim_url", "commute.user_agent", "commute.office_address",
		"commute.office_latitude", "commute.office_longitude")
	cmd.Flags().BoolVar(&recompute, "recompute", false, "compute every distance again, ignoring the cache")
	return cmd
}

func newGenerateCmd(a *app) *cobra.Command {
	var year int
	var seed uint64
	var live bool
	var pace time.Duration
	var tz string
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate a year of realistic sport activities (and more, live)",
		Long: `Write a year of realistic activities to the operational table
sport_activities for every employee of the HR register who practises a sport:
how often each practises (some a lot, most less), at what hours, with
distances and durations plausible for each sport. The same --seed gives the
same activities; running it again updates them in place.

With --live it goes on after the backfill, adding an activity that has just
ended every --pace, until Ctrl-C. Import the register first
(podium activities import-hr).`,
		Example: `  podium activities generate --year 2025
  podium activities generate --year 2025 --live --pace 2s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loc := companyLocation(a.cfg)
			if tz != "" {
				var err error
				if loc, err = time.LoadLocation(tz); err != nil {
					return usageErrorf("unknown time zone %q: use an IANA name such as Europe/Paris", tz)
				}
			}
			if live && pace <= 0 {
				return usageErrorf("--pace must be positive with --live, e.g. --pace 2s")
			}
			ctx := cmd.Context()
			s, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			return generateActivities(ctx, a, s, generate.Config{Year: year, Seed: seed, Location: loc}, live, pace)
		},
	}
	cmd.Flags().IntVar(&year, "year", time.Now().Year()-1, "calendar year to fill")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed: the same seed gives the same activities")
	cmd.Flags().BoolVar(&live, "live", false, "after the backfill, go on adding activities as they happen")
	cmd.Flags().DurationVar(&pace, "pace", 5*time.Second, "with --live: one new activity every this long")
	cmd.Flags().StringVar(&tz, "tz", "", "the time zone the year runs in (default: the company's, setting "+rewards.KeyTimeZone+")")
	return cmd
}

// generateActivities backfills a year of activities for the employees in
// the store and, if live, goes on at pace until ctx ends.
func generateActivities(ctx context.Context, a *app, s *store.Store, cfg generate.Config, live bool, pace time.Duration) error {
	if err := hr.Migrate(ctx, s); err != nil {
		return err
	}
	if err := activities.Migrate(ctx, s); err != nil {
		return err
	}
	reg, err := hr.Load(ctx, s.DB())
	if err != nil {
		return err
	}
	if len(reg.Employees) == 0 {
		return fmt.Errorf("the HR register is empty: import it first (podium activities import-hr FILE)")
	}
	emps := make([]generate.Employee, len(reg.Employees))
	for i, e := range reg.Employees {
		emps[i] = generate.Employee{ID: e.ID, Sports: e.Sports}
	}
	acts, err := generate.Year(emps, cfg)
	if err != nil {
		return err
	}
	bar := progress.New(a.stderr, fmt.Sprintf("generate %d", cfg.Year), int64(len(acts)))
	if err := generate.Backfill(ctx, s, acts, func(done int) { bar.Set(int64(done)) }); err != nil {
		return err
	}
	bar.Finish()
	fmt.Fprintf(a.stderr, "%d activities of %d employees in %d written to %s\n", len(acts), len(emps), cfg.Year, activities.Table)
	if !live {
		return nil
	}
	fmt.Fprintf(a.stderr, "adding an activity every %s (Ctrl-C to stop)\n", pace)
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(time.Now().UnixNano())))
	t := time.NewTicker(pace)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			act, ok := generate.Live(emps, now.In(cfg.Location), rng)
			if !ok {
				return fmt.Errorf("nobody in the register practises a sport")
			}
			if err := activities.Upsert(ctx, s.DB(), act); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			a.logger.Info("activity", "id", act.ID, "employee", act.EmployeeID, "sport", act.SportType, "distance_m", act.DistanceM)
		}
	}
}

func newCDCCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cdc",
		Short: "The change-data-capture of sport_activities: its state",
		Long: `Inspect the change-data-capture that turns writes of sport_activities into
Debezium-compatible change events on sportsdata.public.sport_activities
(serve, demo and activities capture run it).`,
		Example: `  podium activities cdc status`,
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Name the publication and replication slot of the capture, its lag, retained WAL and last heartbeat",
		Long: `Print what the change-data-capture of sport_activities created and how far it
is. On PostgreSQL: the publication and the replication slot (podium_<name>,
activities.capture_name), whether the slot is active and its wal_status, the
lag and the WAL it retains (pg_current_wal_lsn() - confirmed_flush_lsn and
- restart_lsn), and when its heartbeat last came back through the slot. On
SQLite: the change table and the changes not yet relayed.

Drop the slot of a capture you retire (SELECT pg_drop_replication_slot('podium_<name>'))
or it keeps WAL on the server for ever.`,
		Example: `  podium activities cdc status
  podium activities cdc status --store postgres://podium@db:5432/podium`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			return cdc.WriteStatus(cmd.Context(), cmd.OutOrStdout(), s, cdc.FromConfig(a.cfg, a.logger), time.Now())
		},
	})
	return cmd
}

func newCaptureCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "capture",
		Short: "Stream the changes of sport_activities to the bus (change-data-capture)",
		Long: `Turn every insert, update and delete on the operational table sport_activities
into a Debezium-compatible change event on the topic
sportsdata.public.sport_activities, until Ctrl-C. podium serve and demo run
the capture themselves; run this command when they do not (e.g. workers
against PostgreSQL, with the capture in its own process).

On PostgreSQL it uses logical replication (the server needs wal_level=logical):
a publication and a replication slot named podium_activities, created on the
first run with a snapshot of the existing rows, resumed afterwards (the setting
activities.capture_name changes the name). On SQLite, triggers record the
changes in a change table that the capture relays and trims.

When the database or the bus goes away (a PostgreSQL restart), the capture
logs it, tries again with a growing delay (1 s up to a minute) and resumes
where the bus last acknowledged: no change is lost.`,
		Example: `  podium activities capture
  podium activities capture --store postgres://podium@db:5432/podium --bus kafka://redpanda:9092`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := platform.Open(cmd.Context(), a.cfg, a.logger, platform.Client, "activities capture")
			if err != nil {
				return err
			}
			defer p.Close()
			cfg := cdc.FromConfig(a.cfg, a.logger)
			cfg.Metrics = cdc.NewMetrics(p.Registry)
			c, err := cdc.New(p.Store, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "capturing the changes of %s to %s (Ctrl-C to stop)\n", activities.Table, activities.TopicActivities)
			// As in serve: a lost database or bus is waited for, and the
			// capture resumes where the bus last acknowledged.
			cdc.Supervise(cmd.Context(), c, p.Bus, a.logger)
			return nil
		},
	}
}

func newReportCmd(a *app) *cobra.Command {
	var year int
	var format, output string
	var wait bool
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Report a year's sports bonus and wellness days",
		Long: `Report a year of the rewards policy from the gold table activities_gold that
the activities-rewards processor maintains (podium serve, demo or a worker run
it): total bonus cost, eligible employees, declarations flagged for HR,
wellness days granted, the figures per business unit, the top sports and the
monthly trend. Aggregates only: no employee's salary or bonus.

Formats: table (aligned text), csv (one tidy table: section, key, metric,
value; UTF-8 with a byte order mark for Excel), json (English keys such as
bonus_total_eur, eligible_employees, wellness_days_total, by_business_unit),
xlsx (an Excel workbook, a sheet per table; needs --output unless stdout is
redirected). Excel and Power BI open csv and xlsx directly.

A year with no activity in the gold table is an error (exit status 1) that
says what was expected. With --wait it first waits until the process running
the activities pipeline (podium serve, demo or a worker) has captured and
applied every change of sport_activities.`,
		Example: `  podium activities report --year 2025
  podium activities generate --year 2025 && podium activities report --year 2025 --wait
  podium activities report --year 2025 --format json
  podium activities report --year 2025 --format xlsx --output rewards-2025.xlsx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := rewards.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			if f == rewards.FormatXLSX && output == "" && isTerminal(a.stdout) {
				return usageErrorf("an xlsx workbook is binary: give --output FILE.xlsx or redirect stdout")
			}
			ctx := cmd.Context()
			s, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			if wait {
				if err := a.activitiesWait(ctx); err != nil {
					return err
				}
			}
			// Before the processor's first run, its tables are empty, not
			// missing: the report says what it expected.
			if err := stream.Migrate(ctx, s, rewards.Processor(rewards.Policy{}, nil).Spec()); err != nil {
				return err
			}
			sum, err := rewards.Report(ctx, s.DB(), year)
			if err != nil {
				return err
			}
			if sum.Activities == 0 {
				return fmt.Errorf("no activity in %d in %s: expected the activities of that year, scored by podium serve, demo or a worker (import the register, generate or post activities, then run report --wait)", year, rewards.TableGold)
			}
			if output == "" {
				return rewards.Write(a.stdout, sum, f)
			}
			file, err := os.Create(output)
			if err != nil {
				return fmt.Errorf("report: %w", err)
			}
			if err := rewards.Write(file, sum, f); err != nil {
				_ = file.Close()
				return err
			}
			if err := file.Close(); err != nil {
				return fmt.Errorf("report: write %s: %w", output, err)
			}
			fmt.Fprintf(a.stderr, "rewards report %d written to %s\n", year, output)
			return nil
		},
	}
	cmd.Flags().IntVar(&year, "year", time.Now().Year()-1, "calendar year to report (Europe/Paris time)")
	cmd.Flags().StringVar(&format, "format", "table", "table, csv, json or xlsx")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of stdout")
	cmd.Flags().BoolVar(&wait, "wait", false, "first wait until podium serve (or demo, or a worker) has applied every change of "+activities.Table)
	return cmd
}

// activitiesWait waits until the capture has relayed every change of
// sport_activities and the activities stages have applied every message of
// their topics.
func (a *app) activitiesWait(ctx context.Context) error {
	p, err := platform.Open(ctx, a.cfg, a.logger, platform.Client, "activities report")
	if err != nil {
		return err
	}
	defer p.Close()
	specs := platform.Specs(a.activitiesPipeline(p).Stages)
	for _, sp := range specs {
		// Lags reads the positions table, which may not exist yet.
		if err := stream.Migrate(ctx, p.Store, sp); err != nil {
			return err
		}
	}
	fmt.Fprintln(a.stderr, "waiting for the activities pipeline (podium serve, demo or a worker) to apply the changes; Ctrl-C stops waiting")
	start := time.Now()
	for {
		n, err := cdc.Pending(ctx, p.Store)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if time.Since(start) > 15*time.Second {
			fmt.Fprintf(a.stderr, "%d changes not captured yet: is podium serve or demo running on store %s?\n", n, p.Store)
			start = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	bar := progress.New(a.stderr, "apply", 0)
	err = ops.WaitCaughtUp(ctx, p.Bus, p.Store.DB(), specs, 500*time.Millisecond, bar, func() {
		fmt.Fprintf(a.stderr, "\nno progress in 15s: is a process running the activities pipeline on store %s?\n", p.Store)
	})
	if err != nil {
		return err
	}
	bar.Finish()
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
