package main

import (
	"fmt"
	"io"
	"os/user"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/activities/review"
	"github.com/podiumhq/podium/internal/platform"
)

func newReviewCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Review the activities the data-quality rules held: list, approve, reject",
		Long: `Review the activities the data-quality rules held (activities_quarantine):
each with the rule that held it and its numbers. Approving one releases it
into the validated topic, so that the rewards and the lake count it, once;
rejecting keeps it out. Every decision is recorded with who, when and why,
and shown in the employee's history (list --employee, and /activities/review
in the browser).`,
		Example: `  podium activities review list
  podium activities review list --employee 1001 --status all
  podium activities review approve 2305843009213693956 --reason "GPS track checked: a tailwind"
  podium activities review reject 2305843009213693956 --reason "same run entered twice"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newReviewListCmd(a), newReviewDecideCmd(a, "approve"), newReviewDecideCmd(a, "reject"))
	return cmd
}

func newReviewListCmd(a *app) *cobra.Command {
	var f review.Filter
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the held activities (or the decided ones), with the rule and the numbers",
		Long: `List the activities the data-quality rules held: the activity, employee,
sport, distance, elapsed and moving time, speed, the rule that held it, its
status and the decision, then the values every failing rule read. --status
all adds the decided ones; --employee shows one employee's history, with the
flags of their activities.`,
		Example: `  podium activities review list
  podium activities review list --status all --employee 1001`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := review.Migrate(ctx, s); err != nil {
				return err
			}
			held, err := review.List(ctx, s.DB(), f)
			if err != nil {
				return usageErrorf("%v", err)
			}
			if err := printHeld(a.stdout, held); err != nil {
				return err
			}
			if f.Employee != "" {
				flags, err := review.Flags(ctx, s.DB(), f.Employee, 0)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "\nflags of employee %s: %d\n", f.Employee, len(flags))
				for _, fl := range flags {
					fmt.Fprintf(a.stdout, "  %s  activity %d  %s: %s\n", fl.At.UTC().Format(time.RFC3339), fl.ActivityID, fl.Rule, fl.Message)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.Status, "status", "held", "held, approved, rejected or all")
	cmd.Flags().StringVar(&f.Employee, "employee", "", "only this employee's (their history, with the flags)")
	cmd.Flags().IntVar(&f.Limit, "limit", 200, "at most this many")
	return cmd
}

// printHeld prints held activities: one line each, then the values of the
// rules that held them.
func printHeld(w io.Writer, held []review.Held) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTIVITY\tEMPLOYEE\tSPORT\tKM\tELAPSED\tMOVING\tKM/H\tRULE\tSTATUS\tDECISION")
	for _, h := range held {
		sport := "-"
		if h.Activity != nil {
			sport = h.Activity.SportType
		}
		decision := "-"
		if d := h.Decision; d != nil {
			decision = fmt.Sprintf("%s by %s %s: %s", d.Decision, d.By, d.At.UTC().Format(time.RFC3339), d.Reason)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.3f\t%s\t%s\t%.1f\t%s\t%s\t%s\n", h.ActivityID, h.EmployeeID, sport, h.DistanceKm(),
			h.Elapsed(), h.Moving(), h.SpeedKmh(), h.Rule, h.StatusText(), decision)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, h := range held {
		for _, f := range h.Failures {
			keys := make([]string, 0, len(f.Values))
			for k := range f.Values {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			vals := make([]string, len(keys))
			for i, k := range keys {
				vals[i] = fmt.Sprintf("%s=%v", k, f.Values[k])
			}
			fmt.Fprintf(w, "  %d %s (%s): %s  %s\n", h.ActivityID, f.Rule, f.Severity, f.Message, strings.Join(vals, " "))
		}
	}
	if len(held) == 0 {
		fmt.Fprintln(w, "nothing to show")
	}
	return nil
}

func newReviewDecideCmd(a *app, decision string) *cobra.Command {
	var reason, by string
	what := map[string]string{
		"approve": "Approve a held activity: it is released into the pipeline, rewards and lake count it once",
		"reject":  "Reject a held activity: it stays out of the rewards and the lake",
	}[decision]
	cmd := &cobra.Command{
		Use:   decision + " ID --reason TEXT",
		Short: what,
		Long: what + `.
ID is the activity id (its newest held event) or the event id that
review list shows. The reason is required; it is recorded with who decided
(--by, default the system user) and when, and shown in the employee's
history.`,
		Example: "  podium activities review " + decision + ` 2305843009213693956 --reason "checked with the employee" --by anna`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return usageErrorf("give the reason with --reason: it is recorded and shown in the employee's history")
			}
			if by == "" {
				if u, err := user.Current(); err == nil {
					by = u.Username
				}
			}
			if by == "" {
				return usageErrorf("say who decides with --by NAME")
			}
			ctx := cmd.Context()
			p, err := platform.Open(ctx, a.cfg, a.logger, platform.Client, "activities review "+decision)
			if err != nil {
				return err
			}
			defer p.Close()
			q := &review.Queue{Store: p.Store, Bus: p.Bus}
			var h review.Held
			if decision == "approve" {
				h, err = q.Approve(ctx, args[0], by, reason)
			} else {
				h, err = q.Reject(ctx, args[0], by, reason)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "activity %d (employee %s, held by %s): %s by %s\n", h.ActivityID, h.EmployeeID, h.Rule, h.Status, by)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required; recorded and shown)")
	cmd.Flags().StringVar(&by, "by", "", "who decides (default: the system user)")
	return cmd
}
