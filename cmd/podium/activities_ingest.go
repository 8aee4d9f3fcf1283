package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/activities/ingest"
)

// refreshTokenEnv holds the refresh token of `activities strava link`.
const refreshTokenEnv = "PODIUM_STRAVA_REFRESH_TOKEN"

func newStravaCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "strava",
		Short: "Receive employees' activities from Strava",
		Long: `Receive employees' activities from Strava's push subscription: podium serve
answers the webhook at /strava/webhook, records each event and fetches the
activity from Strava with the athlete's token.

Set strava.client_id, PODIUM_STRAVA_CLIENT_SECRET and PODIUM_STRAVA_VERIFY_TOKEN,
create the subscription at Strava with callback https://<podium>/strava/webhook,
set strava.subscription_id (PODIUM_STRAVA_SUBSCRIPTION_ID) to the id Strava
answered — events of any other subscription, or about athletes not linked,
are ignored —, then link each athlete who authorised podium to their
employee id. status shows the athletes whose authorization Strava refused
(disconnected: link them again after they re-authorize podium).`,
		Example: `  PODIUM_STRAVA_REFRESH_TOKEN=... podium activities strava link --athlete 134815 --employee E0042
  podium activities strava status`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newStravaLinkCmd(a), newStravaStatusCmd(a))
	return cmd
}

func newStravaLinkCmd(a *app) *cobra.Command {
	var athlete int64
	var employee string
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "link --athlete ID --employee ID",
		Short: "Link a Strava athlete to an employee, with the athlete's refresh token",
		Long: `Link a Strava athlete to an employee of the HR register, with the refresh
token of Strava's OAuth answer for that athlete (scope activity:read_all). The
token is a secret: give it in ` + refreshTokenEnv + ` or on standard input
with --refresh-token-stdin, never on the command line. Linking again replaces
the employee and the token.`,
		Example: `  ` + refreshTokenEnv + `=... podium activities strava link --athlete 134815 --employee E0042
  pass show strava/134815 | podium activities strava link --athlete 134815 --employee E0042 --refresh-token-stdin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if athlete <= 0 {
				return usageErrorf("give the Strava athlete id with --athlete (a positive number)")
			}
			if strings.TrimSpace(employee) == "" {
				return usageErrorf("give the employee id with --employee")
			}
			envToken, inEnv := a.lookupEnv(refreshTokenEnv)
			var token string
			switch {
			case fromStdin && inEnv && envToken != "":
				return usageErrorf("the refresh token is in %s and --refresh-token-stdin is set: give it one way only", refreshTokenEnv)
			case fromStdin:
				in := a.stdin
				if in == nil {
					in = os.Stdin
				}
				line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
				if err != nil && err != io.EOF {
					return fmt.Errorf("read the refresh token from standard input: %w", err)
				}
				token = strings.TrimSpace(line)
				if token == "" {
					return usageErrorf("standard input is empty: pipe the refresh token in")
				}
			case envToken != "":
				token = strings.TrimSpace(envToken)
			default:
				return usageErrorf("no refresh token: set %s or pipe it with --refresh-token-stdin (never as a flag value)", refreshTokenEnv)
			}
			ctx := cmd.Context()
			s, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := ingest.Link(ctx, s, athlete, employee, token, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "Strava athlete %d linked to employee %s\n", athlete, strings.TrimSpace(employee))
			return nil
		},
	}
	cmd.Flags().Int64Var(&athlete, "athlete", 0, "Strava athlete id")
	cmd.Flags().StringVar(&employee, "employee", "", "employee id of the HR register")
	cmd.Flags().BoolVar(&fromStdin, "refresh-token-stdin", false, "read the refresh token from standard input")
	return cmd
}

func newStravaStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the linked athletes and the Strava events (never the tokens)",
		Long: `Show the Strava athletes linked to employees (authorised or not, token
expiry) and the webhook events received: how many are processed, pending or
failing, with the last errors. Tokens are never printed.`,
		Example: `  podium activities strava status`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			st, err := ingest.ReadStatus(ctx, s)
			if err != nil {
				return err
			}
			return printStravaStatus(a.stdout, st)
		},
	}
}

// printStravaStatus prints st as a table and counts.
func printStravaStatus(w io.Writer, st ingest.Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ATHLETE\tEMPLOYEE\tSTATUS\tACCESS TOKEN EXPIRES")
	for _, ath := range st.Athletes {
		exp := "-"
		if !ath.ExpiresAt.IsZero() {
			exp = ath.ExpiresAt.UTC().Format(time.RFC3339)
		}
		status := "connected"
		if !ath.Authorized {
			status = "disconnected"
			if !ath.DisconnectedAt.IsZero() {
				status += " since " + ath.DisconnectedAt.UTC().Format(time.RFC3339)
			}
			if ath.DisconnectReason != "" {
				status += ": " + ath.DisconnectReason
			}
			status += " (re-authorize, then podium activities strava link)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", ath.AthleteID, ath.EmployeeID, status, exp)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nevents: %d pending (%d failing, %d waiting for re-authorization), %d processed, %d skipped\n",
		st.Pending, st.Failing, st.Waiting, st.Processed, st.Skipped)
	for _, e := range st.Errors {
		fmt.Fprintf(w, "  last error: %s\n", e)
	}
	return nil
}
