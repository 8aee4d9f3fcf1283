package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/activities/bi"
	"github.com/podiumhq/podium/internal/activities/erase"
	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/activities/payroll"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/store"
)

// rulesVersion is the version of the rules the configuration c sets (the
// rewards policy and the quality rule pack): payroll.RulesVersion, "" when
// either does not load (the stages that need them say why).
func rulesVersion(c config.Config) string {
	policy, err := rewards.PolicyFromConfig(c)
	if err != nil {
		return ""
	}
	suite, err := quality.Load(c.Get(keyExpectations).String())
	if err != nil {
		return ""
	}
	return payroll.RulesVersion(policy, suite)
}

func newExportCmd(a *app) *cobra.Command {
	var year int
	var asOf, format, output string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export a year's bonus and wellness days for payroll, reproducibly",
		Long: `Export, for payroll, one row per employee of a year: the sports bonus, the
wellness days, the activities counted, the commute check — read from the
lakehouse's gold table (activities.gold_employee_year) as of one Iceberg
snapshot.

--as-of picks the snapshot: a snapshot id (an earlier export's, or one of
'podium activities lake history activities.gold_employee_year'), a date
YYYY-MM-DD (the snapshot current at the end of that day, company time zone)
or an RFC 3339 time. Without it the current snapshot is read. The same
--as-of gives the same bytes later, whatever arrived since: nothing in the
file depends on when it was exported. The snapshot read is tagged
payroll-<id> in the gold table, so that the lake's expiry keeps it.

Formats:
  csv   UTF-8 without byte order mark, one header line, decimals with a point;
        with --output, the metadata goes to FILE.meta.json beside it (payroll
        importers read the CSV alone: a comment line would be taken for data)
  xlsx  a workbook (sheet Payroll, sheet About) whose document properties
        carry the metadata; created and modified dates are the snapshot's

The metadata: the snapshot id and time, the rules version (SHA-256 of the
rewards policy and the quality rule pack the figures were computed with, as
the snapshot recorded it), and the checksum (SHA-256 of the CSV rendering of
the rows: the .csv file itself).`,
		Example: `  podium activities export --year 2025 -o payroll-2025.csv
  podium activities export --year 2025 --as-of 2026-01-31 --format xlsx -o payroll-2025.xlsx
  podium activities export --year 2025 --as-of 7412236541237895 -o payroll-2025.csv   # the same bytes again`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format = strings.ToLower(format)
			if format != "csv" && format != "xlsx" {
				return usageErrorf("unknown export format %q: want csv or xlsx", format)
			}
			if format == "xlsx" && output == "" && isTerminal(a.stdout) {
				return usageErrorf("an xlsx workbook is binary: give --output FILE.xlsx or redirect stdout")
			}
			ctx := cmd.Context()
			l, closeAll, err := a.openLake(ctx)
			if err != nil {
				return err
			}
			defer closeAll()
			ex, err := payroll.Load(ctx, l, year, asOf, companyLocation(a.cfg), rulesVersion(a.cfg))
			if err != nil {
				return err
			}
			var body bytes.Buffer
			if format == "csv" {
				body.Write(ex.CSV())
			} else if err := ex.WriteXLSX(&body); err != nil {
				return err
			}
			if output == "" {
				if _, err := a.stdout.Write(body.Bytes()); err != nil {
					return err
				}
				if format == "csv" {
					fmt.Fprintln(a.stderr, "metadata (written to FILE.meta.json with --output):")
					return ex.WriteMeta(a.stderr)
				}
				return nil
			}
			if err := os.WriteFile(output, body.Bytes(), 0o600); err != nil {
				return fmt.Errorf("payroll export: %w", err)
			}
			if format == "csv" {
				var meta bytes.Buffer
				if err := ex.WriteMeta(&meta); err != nil {
					return err
				}
				if err := os.WriteFile(output+".meta.json", meta.Bytes(), 0o600); err != nil {
					return fmt.Errorf("payroll export: %w", err)
				}
			}
			m := ex.Meta()
			fmt.Fprintf(a.stderr, "payroll export %d written to %s: %d employees, bonus %s EUR, %d wellness days; snapshot %d (%s), rules %s, checksum %s\n",
				year, output, m.Employees, m.BonusTotalEUR, m.WellnessDays, m.SnapshotID, m.SnapshotTime, m.RulesVersion, m.Checksum)
			return nil
		},
	}
	cmd.Flags().IntVar(&year, "year", time.Now().Year()-1, "calendar year to export (company time zone)")
	cmd.Flags().StringVar(&asOf, "as-of", "", "snapshot id, date YYYY-MM-DD or RFC 3339 time to export as of; empty: the current snapshot")
	cmd.Flags().StringVar(&format, "format", "csv", "csv or xlsx")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (and, for csv, FILE.meta.json) instead of stdout")
	return cmd
}

func newEraseCmd(a *app) *cobra.Command {
	var employee string
	var yes bool
	cmd := &cobra.Command{
		Use:   "erase --employee ID",
		Short: "Erase one employee's data everywhere podium keeps it (data-protection request)",
		Long: `Erase one employee's data, for a data-protection erasure request, from:

  the store     sport_activities (and SQLite's pending change rows),
                activities_current, activities_sport_years, activities_gold,
                activities_quarantine, the Slack ledger (podium_effects),
                commute_distances, hr_employees, hr_employee_sports,
                strava_athletes (tokens) and strava_events
  the topics    the change events, the validated stream and their dead
                letters, by the keys of the employee's activities: deleted on
                JetStream; on Kafka a tombstone per key: the report reads
                each topic's cleanup.policy and says whether compaction
                removes the records or how long retention.ms keeps them,
                with the command that makes the topic compacted
  the lake      the bronze, silver and gold Iceberg tables: the data files
                holding the rows rewritten without them, the manifests
                rewritten, every other snapshot expired (and the payroll tags
                that kept one holding the employee removed), orphaned files
                deleted

and print a report: where, how many rows, which snapshots expired.

It runs while podium serve runs (through the data dir, or the shared
PostgreSQL and bus): lake commits that race the sink's are retried. Its
deletes reach the pipeline without the employee's data (on PostgreSQL the
delete runs under REPLICA IDENTITY DEFAULT: its change events carry the
activity id only). An activity of the employee written during the erasure
may escape it: run it again once writers are quiet; it is idempotent.
Without --yes it asks for confirmation.`,
		Example: `  podium activities erase --employee 1042
  podium activities erase --employee 1042 --yes > erasure-1042.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			employee = strings.TrimSpace(employee)
			if employee == "" {
				return usageErrorf("give the employee: --employee ID")
			}
			if !yes {
				fmt.Fprintf(a.stderr, "erase every trace of employee %s (store, topics, lake history)? type the id to confirm: ", employee)
				var answer string
				_, _ = fmt.Fscanln(cmd.InOrStdin(), &answer)
				if strings.TrimSpace(answer) != employee {
					return usageErrorf("not confirmed: nothing erased (pass --yes to skip the question)")
				}
			}
			ctx := cmd.Context()
			p, err := platform.Open(ctx, a.cfg, a.logger, platform.Client, "activities erase")
			if err != nil {
				return err
			}
			defer p.Close()
			opts := erase.Options{Store: p.Store, Bus: p.Bus}
			if lake.Enabled(a.cfg) {
				l, err := lakehouse.Open(ctx, p.Store.DB(), lakehouse.Dialect(p.Store.Dialect()), lake.LakeConfig(a.cfg))
				if err != nil {
					return err
				}
				defer l.Close()
				opts.Lake = l
			}
			rep, err := erase.Erase(ctx, employee, opts)
			if werr := rep.Write(a.stdout); err == nil {
				err = werr
			}
			return err
		},
	}
	cmd.Flags().StringVar(&employee, "employee", "", "the employee id (as in the HR register)")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	return cmd
}

// biPasswordEnv holds the password of a BI role.
const biPasswordEnv = "PODIUM_BI_PASSWORD"

func newBIRoleCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bi-role NAME",
		Short: "Create a read-only PostgreSQL role for BI tools, limited to the reporting schema",
		Long: `Create (or update) a PostgreSQL login role that reads the reporting schema and
nothing else: documented views of rewards per employee and year, activity per
month, sport mix, quality results and a date dimension, employees under
pseudonymous keys (HMAC-SHA-256 with the secret of bi.key_secret, which must
be set: PODIUM_BI_KEY_SECRET), names only with bi.show_names. The role gets
CONNECT, USAGE on the schema and SELECT on its views, read-only transactions,
and no right on any table: the HR register, the Strava tokens and the gold
table stay out of its reach. See docs/BI.md for Power BI, Metabase and
Superset.

The password comes from ` + biPasswordEnv + `, else from the first line of
standard input — never from a flag, which would show in the shell history and
the process list. It is sent as a SCRAM-SHA-256 verifier, so the server's
logs never hold it. The schema is "reporting" for a store in public,
"<schema>_reporting" otherwise. PostgreSQL only.`,
		Example: `  PODIUM_BI_PASSWORD=... podium activities bi-role powerbi
  read -rs pw && printf '%s\n' "$pw" | podium activities bi-role metabase`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password, _ := a.lookupEnv(biPasswordEnv)
			if password == "" {
				fmt.Fprintf(a.stderr, "password of role %s (or set %s): ", args[0], biPasswordEnv)
				line, err := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), 4096)).ReadString('\n')
				if err != nil && err != io.EOF {
					return fmt.Errorf("read the password: %w", err)
				}
				password = strings.TrimRight(line, "\r\n")
			}
			if password == "" {
				return usageErrorf("no password: set %s or type it on standard input", biPasswordEnv)
			}
			ctx := cmd.Context()
			s, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			schema, err := bi.CreateRole(ctx, s, bi.FromConfig(a.cfg), args[0], password)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "role %s reads schema %s (read-only); connect with user %s to database of %s\n", args[0], schema, args[0], s)
			return nil
		},
	}
	return cmd
}

// biSchema keeps the reporting schema of a PostgreSQL store with a key
// secret up to date: its views, and the keys of new employees, at start
// and every five minutes. Without PostgreSQL or a secret it does nothing.
func biSchema(ctx context.Context, p *platform.App) {
	cfg := bi.FromConfig(p.Config)
	if p.Store.Dialect() != store.Postgres || cfg.Secret == "" {
		return
	}
	for {
		if schema, err := bi.Ensure(ctx, p.Store, cfg); err != nil && ctx.Err() == nil {
			p.Log.Warn("BI reporting schema: trying again in 5 minutes", "err", err)
		} else {
			p.Log.Debug("BI reporting schema up to date", "schema", schema)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Minute):
		}
	}
}
