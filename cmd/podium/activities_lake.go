package main

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/lakehouse"
)

func newLakeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lake",
		Short: "The activities lakehouse: Iceberg tables, their history and time travel",
		Long: `The activities-lakehouse sink keeps three Apache Iceberg tables from the
validated change events of sport_activities:

  activities.bronze_changes       every change event, as read (appended)
  activities.silver_activities    the current activities (updates and deletes applied)
  activities.gold_employee_year   per employee and year: activities, distance, sports,
                                  commute, bonus, wellness days, declaration flag

The catalog is Iceberg's SQL (JDBC) catalog in podium's store (tables
iceberg_tables, iceberg_namespace_properties); the files are in the warehouse,
warehouse/ in the data dir unless lakehouse.warehouse (PODIUM_LAKEHOUSE_WAREHOUSE,
--warehouse) names another directory or s3://bucket/prefix. Every commit
records the topic positions it holds in its snapshot summary (podium.positions).

Any Iceberg engine reads the tables: see docs/LAKEHOUSE.md for DuckDB and Spark.
bonus_eur derives from salaries: keep the warehouse as private as the store.`,
		Example: `  podium activities lake tables
  podium activities lake history activities.gold_employee_year
  podium activities lake scan activities.silver_activities --limit 20
  podium activities lake scan activities.gold_employee_year --snapshot 4242424242 --format csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newLakeTablesCmd(a), newLakeHistoryCmd(a), newLakeScanCmd(a))
	return cmd
}

// openLake opens the store and the lake of the configuration.
func (a *app) openLake(ctx context.Context) (*lakehouse.Lake, func(), error) {
	s, err := a.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	l, err := lakehouse.Open(ctx, s.DB(), lakehouse.Dialect(s.Dialect()), lake.LakeConfig(a.cfg))
	if err != nil {
		_ = s.Close()
		return nil, nil, err
	}
	return l, func() { _ = l.Close(); _ = s.Close() }, nil
}

// openLakeTable opens the lake and loads a table, saying which exist when
// it does not. The caller calls closeAll.
func (a *app) openLakeTable(ctx context.Context, name string) (t *lakehouse.Table, closeAll func(), err error) {
	l, closeAll, err := a.openLake(ctx)
	if err != nil {
		return nil, nil, err
	}
	if t, err = l.Table(ctx, name); err == nil {
		return t, closeAll, nil
	}
	names, lerr := l.Tables(ctx)
	closeAll()
	if lerr != nil || len(names) == 0 {
		return nil, nil, fmt.Errorf("%w (the lake has no table yet: run podium serve or worker with the activities pipeline)", err)
	}
	return nil, nil, fmt.Errorf("%w: the tables are %s", err, strings.Join(names, ", "))
}

func newLakeTablesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tables",
		Short: "List the lake's tables with their snapshots, rows and positions",
		Long: `List the Iceberg tables of podium's catalog: the number of snapshots, the rows
of the current snapshot, when it was committed, the topic positions it holds
(the next offset per partition, podium.positions) and its metadata file, which
engines without the catalog read (DuckDB's iceberg_scan).`,
		Example: `  podium activities lake tables
  PODIUM_LAKEHOUSE_WAREHOUSE=s3://lake/podium podium activities lake tables`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			l, closeAll, err := a.openLake(ctx)
			if err != nil {
				return err
			}
			defer closeAll()
			names, err := l.Tables(ctx)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(names) == 0 {
				fmt.Fprintf(w, "no table in the lake at %s yet\n", l.Warehouse())
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TABLE\tSNAPSHOTS\tROWS\tLAST COMMIT\tPOSITIONS\tMETADATA")
			for _, n := range names {
				t, err := l.Table(ctx, n)
				if err != nil {
					return err
				}
				snaps, rows, last := len(t.History()), "0", "-"
				if cur, ok := t.Current(); ok {
					if v, ok := cur.Summary["total-records"]; ok {
						rows = v
					}
					last = cur.Time.Local().Format(time.DateTime)
				}
				pos, ok := t.LastProperty(lake.PropPositions)
				if !ok {
					pos = "-"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", n, snaps, rows, last, pos, t.MetadataLocation())
			}
			return tw.Flush()
		},
	}
	config.AddSettingFlags(cmd.Flags(), lake.KeyWarehouse)
	return cmd
}

func newLakeHistoryCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history TABLE",
		Short: "Show a lake table's snapshots: id, time, operation, summary",
		Long: `Show the snapshots of an Iceberg table, oldest first: its history. Each line
gives the snapshot id (for 'lake scan --snapshot'), its time, the operation
(append, overwrite, delete), the rows it added and deleted, the total, and
the topic positions the table held after it.`,
		Example: `  podium activities lake history activities.bronze_changes
  podium activities lake history activities.gold_employee_year`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeLakeTables,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, closeAll, err := a.openLakeTable(ctx, args[0])
			if err != nil {
				return err
			}
			defer closeAll()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SNAPSHOT\tTIME\tOPERATION\tADDED\tDELETED\tTOTAL\tEVENTS\tPOSITIONS")
			dash := func(v string) string {
				if v == "" {
					return "-"
				}
				return v
			}
			for _, s := range t.History() {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Time.Local().Format("2006-01-02 15:04:05.000"),
					s.Operation, dash(s.Summary["added-records"]), dash(s.Summary["deleted-records"]),
					dash(s.Summary["total-records"]), dash(s.Summary[lake.PropEvents]), dash(s.Summary[lake.PropPositions]))
			}
			return tw.Flush()
		},
	}
	config.AddSettingFlags(cmd.Flags(), lake.KeyWarehouse)
	return cmd
}

func newLakeScanCmd(a *app) *cobra.Command {
	var snapshot, limit int64
	var format string
	cmd := &cobra.Command{
		Use:   "scan TABLE",
		Short: "Read a lake table, now or as of a snapshot (time travel)",
		Long: `Read the rows of an Iceberg table through iceberg-go's scan: the current
snapshot, or with --snapshot ID the table as it was at that snapshot (ids
from 'lake history'). --format table (default), csv or json (one array of
objects); binary columns are base64 in csv and json.`,
		Example: `  podium activities lake scan activities.gold_employee_year
  podium activities lake scan activities.silver_activities --limit 10 --format json
  podium activities lake scan activities.gold_employee_year --snapshot 4242424242 --format csv > gold.csv`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeLakeTables,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "table", "csv", "json":
			default:
				return usageErrorf("--format %q: use table, csv or json", format)
			}
			if limit < 0 {
				return usageErrorf("--limit must not be negative")
			}
			ctx := cmd.Context()
			t, closeAll, err := a.openLakeTable(ctx, args[0])
			if err != nil {
				return err
			}
			defer closeAll()
			rows, err := t.Scan(ctx, lakehouse.ScanOptions{SnapshotID: snapshot, Limit: limit})
			if err != nil {
				return err
			}
			return writeLakeRows(cmd.OutOrStdout(), format, t.Columns(), rows)
		},
	}
	cmd.Flags().Int64Var(&snapshot, "snapshot", 0, "read the table as of this snapshot id (see lake history)")
	cmd.Flags().Int64Var(&limit, "limit", 0, "read at most this many rows (0: all)")
	cmd.Flags().StringVar(&format, "format", "table", "table, csv or json")
	config.AddSettingFlags(cmd.Flags(), lake.KeyWarehouse)
	return cmd
}

// lakeText formats a value for the table and csv formats.
func lakeText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// roundedText is x rounded to 3 decimals (metres of a distance in km),
// without trailing zeros: 4645.000000001 is 4645, 9.586649109515864 9.587.
func roundedText(x float64) string {
	s := strconv.FormatFloat(x, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

func writeLakeRows(w io.Writer, format string, cols []lakehouse.Column, rows []lakehouse.Row) error {
	// Money (decimal(12,2), read as cents) is written as decimal text, a
	// number in JSON: 1756.17.
	for j, c := range cols {
		if c.Type != lakehouse.Decimal12x2 {
			continue
		}
		for _, r := range rows {
			if x, ok := r[j].(int64); ok {
				r[j] = json.Number(rewards.Cents(x).String())
			}
		}
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	switch format {
	case "json":
		out := make([]map[string]any, len(rows))
		for i, r := range rows {
			m := make(map[string]any, len(cols))
			for j, c := range cols {
				m[c.Name] = r[j]
			}
			out[i] = m
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(names); err != nil {
			return err
		}
		for _, r := range rows {
			rec := make([]string, len(r))
			for j, v := range r {
				rec[j] = lakeText(v)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(names, "\t")))
	for _, r := range rows {
		vals := make([]string, len(r))
		for j, v := range r {
			s := lakeText(v)
			if x, ok := v.(float64); ok {
				// Read by people: rounded (csv and json keep every digit).
				s = roundedText(x)
			}
			if len(s) > 60 {
				s = s[:57] + "..."
			}
			vals[j] = strings.NewReplacer("\t", " ", "\n", " ").Replace(s)
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	fmt.Fprintf(tw, "(%d rows)\n", len(rows))
	return tw.Flush()
}
