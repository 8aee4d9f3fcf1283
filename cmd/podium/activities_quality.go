package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/stream"
)

// keyExpectations is the setting naming the expectation suite file.
const keyExpectations = "activities.expectations"

// qualityStage loads the configured suite when it runs, so that a
// broken suite file stops this processor alone, with the reason, and is
// read again on each restart.
type qualityStage struct{ p *platform.App }

func (q qualityStage) Spec() stream.Spec { return quality.Processor(quality.Config{}).Spec() }

func (q qualityStage) Run(ctx context.Context, env stream.Env) error {
	suite, err := loadSuite(q.p.Config)
	if err != nil {
		return fmt.Errorf("processor %s: %w", quality.Name, err)
	}
	return quality.Processor(quality.Config{Suite: suite, Metrics: quality.NewMetrics(q.p.Registry)}).Run(ctx, env)
}

func newValidateCmd(a *app) *cobra.Command {
	var htmlOut, jsonOut string
	var year, samples int
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the activity tables against the data-quality expectations",
		Long: `Evaluate every expectation of the data-quality suite on the store's tables:
each row rule on every row of its table (sport_activities, hr_employees...),
each table rule (uniqueness, freshness, row counts) once on its table. The
report also counts the change events the activities-quality processor
quarantined (table activities_quarantine), by rule.

A summary table goes to stdout; --json and --html write the full report
(the HTML page is self-contained: open it in a browser). Failing rows are
sampled with their key and the values of the columns the rule reads; the
personal columns of the HR register (names, birth dates, salaries,
addresses) never appear.

The suite is the built-in one unless --suite (or the setting
activities.expectations, PODIUM_ACTIVITIES_EXPECTATIONS) names a YAML file:
see internal/activities/quality/expectations.yaml for the format.

Exits 1 when an expectation of severity error fails (warnings do not), 2
when the suite file is unreadable or does not compile.`,
		Example: `  podium activities validate
  podium activities validate --html quality.html --json quality.json
  podium activities validate --suite my-expectations.yaml --year 2025`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			suite, err := loadSuite(a.cfg)
			if err != nil {
				return usageError{err}
			}
			opts := quality.Options{Samples: samples}
			if year != 0 {
				paris, err := time.LoadLocation("Europe/Paris")
				if err != nil {
					return err
				}
				from := time.Date(year, 1, 1, 0, 0, 0, 0, paris)
				opts.Filters = map[string]quality.Filter{activities.Table: {
					Where: "start_time >= $1 AND start_time < $2", Args: []any{from.UTC(), from.AddDate(1, 0, 0).UTC()},
					Describe: fmt.Sprintf("activities starting in %d (Europe/Paris)", year),
				}}
			}
			s, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			// The tables the rules read exist, empty, before the first
			// import or capture: their rules fail rather than the command.
			if err := hr.Migrate(ctx, s); err != nil {
				return err
			}
			if err := activities.Migrate(ctx, s); err != nil {
				return err
			}
			rep, err := suite.Validate(ctx, s.DB(), opts)
			if err != nil {
				var se *quality.SuiteError
				if errors.As(err, &se) {
					return usageError{err}
				}
				return err
			}
			if err := rep.WriteSummary(a.stdout); err != nil {
				return err
			}
			var written []string
			for _, out := range []struct {
				path  string
				write func(f *os.File) error
			}{
				{jsonOut, func(f *os.File) error { return rep.WriteJSON(f) }},
				{htmlOut, func(f *os.File) error { return rep.WriteHTML(f) }},
			} {
				if out.path == "" {
					continue
				}
				f, err := os.Create(out.path)
				if err != nil {
					return fmt.Errorf("validate: %w", err)
				}
				if err := out.write(f); err != nil {
					_ = f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return fmt.Errorf("validate: write %s: %w", out.path, err)
				}
				written = append(written, out.path)
			}
			where := ""
			if len(written) > 0 {
				where = "; report in " + strings.Join(written, " and ")
				fmt.Fprintf(a.stderr, "data-quality report written to %s\n", strings.Join(written, " and "))
			}
			if failed := rep.Failed(); len(failed) > 0 {
				names := make([]string, len(failed))
				for i, f := range failed {
					names[i] = fmt.Sprintf("%s (%s: %s)", f.Name, f.Table, f.Message)
				}
				return fmt.Errorf("%d data-quality expectations failed: %s%s", len(failed), strings.Join(names, "; "), where)
			}
			return nil
		},
	}
	config.AddSettingFlags(cmd.Flags(), keyExpectations)
	cmd.Flags().StringVar(&htmlOut, "html", "", "write the report as a self-contained HTML page to this file")
	cmd.Flags().StringVar(&jsonOut, "json", "", "write the report as JSON to this file")
	cmd.Flags().IntVar(&year, "year", 0, "check the row rules on the activities of this year only (Europe/Paris time); table rules see the whole table")
	cmd.Flags().IntVar(&samples, "samples", 10, "failing rows shown per expectation")
	return cmd
}

// loadSuite loads the expectation suite the configuration names, with the
// rewards policy's settings its rules read.
func loadSuite(cfg config.Config) (*quality.Suite, error) {
	suite, err := quality.Load(cfg.Get(keyExpectations).String())
	if err != nil {
		return nil, err
	}
	suite.Policy = quality.Policy{quality.PolicyIndoor: cfg.Get(rewards.KeyIndoor).String()}
	return suite, nil
}
