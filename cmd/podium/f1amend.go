package main

import (
	"context"
	"encoding/csv"
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
)

// `podium f1 amendments` and `podium f1 standings --contention`: the audit
// trail of the results and the title maths, read from the store.

func newF1AmendmentsCmd(a *app) *cobra.Command {
	var season int
	var format string
	cmd := &cobra.Command{
		Use:   "amendments",
		Short: "List the changes later results made to earlier ones (the audit trail)",
		Long: `List the audit trail of the F1 results: every field of a result that a later
result of the same car changed — a disqualification, a time penalty that moved
cars, a reinstatement after an appeal, points removed — and the changes it made
to the other cars of the session (their places, the fastest-lap point). Each
line gives the race, the car, the field, its old and new values, when the bus
stored the amending result, and its source (archive, openf1-rest,
openf1-mqtt, file). The f1-results processor records them in the transaction
that applies the result, so a result published again unchanged records
nothing, and the standings of the round and of every later round follow.

Oldest first, every season unless --season. Output is a table, or CSV or
JSON for scripts (--format); the CSV columns are
amended_at,season,round,session,grand_prix,car_number,driver_id,driver_name,field,old,new,source
(old and new empty for none, such as no position), and JSON objects have the
same keys (at for amended_at) and version, shared by the rows of one change.`,
		Example: `  podium f1 amendments
  podium f1 amendments --season 2023
  podium f1 amendments --format csv > amendments.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ops.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			if season < 0 {
				return usageErrorf("--season %d: must be a year such as 2023", season)
			}
			ctx := cmd.Context()
			s, err := a.openF1Store(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			as, err := f1.Amendments(ctx, s.DB(), season, 0, "")
			if err != nil {
				return err
			}
			if len(as) == 0 && f == ops.Table {
				which := "any season"
				if season != 0 {
					which = strconv.Itoa(season)
				}
				fmt.Fprintf(a.stderr, "no amendment of %s in the store: no result has changed one stored before\n", which)
				return nil
			}
			return writeAmendments(a.stdout, as, f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&season, "season", 0, "season (default: every season)")
	fl.StringVar(&format, "format", "table", "output format: table, csv or json")
	return cmd
}

// amendmentCSV is the header of the amendments' CSV output.
var amendmentCSV = []string{"amended_at", "season", "round", "session", "grand_prix", "car_number", "driver_id",
	"driver_name", "field", "old", "new", "source"}

func writeAmendments(w io.Writer, as []f1.Amendment, f ops.Format) error {
	switch f {
	case ops.JSON:
		return writeIndentedJSON(w, as)
	case ops.CSV:
		cw := csv.NewWriter(w)
		_ = cw.Write(amendmentCSV)
		for _, x := range as {
			old, cur := x.Values()
			_ = cw.Write([]string{x.At.Format(time.RFC3339), strconv.Itoa(x.Season), strconv.Itoa(x.Round), x.Session,
				x.GrandPrix, strconv.Itoa(x.CarNumber), x.DriverID, x.DriverName, x.Field, old, cur, x.Source})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN (UTC)\tRACE\tSESSION\tNO\tDRIVER\tFIELD\tOLD → NEW\tSOURCE")
	for _, x := range as {
		old, cur := x.Values()
		if old == "" {
			old = "–"
		}
		if cur == "" {
			cur = "–"
		}
		fmt.Fprintf(tw, "%s\t%d R%d %s\t%s\t%d\t%s\t%s\t%s → %s\t%s\n", x.At.Format("2006-01-02 15:04"), x.Season, x.Round,
			x.GrandPrix, x.Session, x.CarNumber, x.DriverName, x.Field, old, cur, f1.SourceLabel(x.Source))
	}
	return tw.Flush()
}

// contentionCSV is the header of `f1 standings --contention --format csv`.
var contentionCSV = []string{"position", "id", "name", "points", "max_points", "in_contention", "needed", "champion"}

// writeContention prints the title maths of one championship.
func writeContention(w io.Writer, cs []f1.Contender, f ops.Format, drivers bool) error {
	needed := func(c f1.Contender) string {
		if c.Needed == nil {
			return ""
		}
		return points(*c.Needed)
	}
	switch f {
	case ops.JSON:
		return writeIndentedJSON(w, cs)
	case ops.CSV:
		cw := csv.NewWriter(w)
		_ = cw.Write(contentionCSV)
		for _, c := range cs {
			_ = cw.Write([]string{strconv.Itoa(c.Position), c.ID, c.Name, points(c.Points), points(c.MaxPoints),
				strconv.FormatBool(c.InContention), needed(c), strconv.FormatBool(c.Champion)})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	name := map[bool]string{true: "DRIVER\tCODE", false: "TEAM"}[drivers]
	fmt.Fprintf(tw, "POS\t%s\tPOINTS\tMAX\tTO CLINCH\tTITLE\n", name)
	for _, c := range cs {
		who := c.Name
		if drivers {
			who += "\t" + c.Code
		}
		status, need := "out", needed(c)
		switch {
		case c.Champion:
			status = "champion"
		case c.InContention:
			status = "in contention"
			if need == "" {
				need = "needs rivals to drop points"
			}
		}
		if need == "" {
			need = "–"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", c.Position, who, points(c.Points), points(c.MaxPoints), need, status)
	}
	return tw.Flush()
}

// f1Contention prints the title maths of season after round: the
// championship's table, and on stderr (table format) what is still to be
// won and when the title was clinched.
func (a *app) f1Contention(ctx context.Context, q f1.Queryer, season, round int, f ops.Format, constructors bool) error {
	cal, _ := f1Calendar(season)
	tr, err := f1.Contention(ctx, q, season, round, cal)
	if errors.Is(err, f1.ErrNoCalendar) {
		seasons := []int{0}
		if arc, err := archive.Load(); err == nil {
			seasons = arc.Seasons()
		}
		return fmt.Errorf("--contention needs the calendar of %d, which podium does not know: the archive has the calendars of %d to %d",
			season, seasons[0], seasons[len(seasons)-1])
	}
	if err != nil {
		return err
	}
	cs, title := tr.Drivers, tr.DriverTitle
	which := "drivers'"
	if constructors {
		cs, title, which = tr.Constructors, tr.ConstructorTitle, "constructors'"
	}
	if f == ops.Table {
		fmt.Fprintf(a.stderr, "%d %s title after round %d, %s. %s.\n", season, which, tr.Round, tr.GrandPrix, tr.Available())
		if title != nil {
			fmt.Fprintf(a.stderr, "%s clinched the title at %s.\n", title.Name, title.At())
		}
	}
	return writeContention(a.stdout, cs, f, !constructors)
}
