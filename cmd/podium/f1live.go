package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/openf1"
	"github.com/podiumhq/podium/internal/platform"
)

// openF1Settings are the settings of `podium f1 live`.
func openF1Settings() []config.Setting {
	return []config.Setting{
		{Key: "openf1.url", Env: "PODIUM_OPENF1_URL", Default: openf1.DefaultBaseURL,
			Usage: "OpenF1 REST API base URL"},
		{Key: "openf1.username", Env: "PODIUM_OPENF1_USERNAME",
			Usage: "OpenF1 account (live access: token auth and the MQTT feed)"},
		{Key: "openf1.password", Env: "PODIUM_OPENF1_PASSWORD", Secret: true,
			Usage: "OpenF1 account password"},
		{Key: "openf1.mqtt_url", Env: "PODIUM_OPENF1_MQTT_URL", Default: openf1.DefaultMQTTURL,
			Usage: "OpenF1 real-time MQTT broker"},
	}
}

func newF1LiveCmd(a *app) *cobra.Command {
	var session, since string
	var pollOnly bool
	cmd := &cobra.Command{
		Use:   "live",
		Short: "Follow a session on OpenF1 and stream its results and running order",
		Long: `Follow a race or sprint on OpenF1 (https://openf1.org): publish new and
amended results to f1.results as they appear, and during the session the
running order, gaps, intervals, laps and race-control messages to f1.live.
It stops once the session is over and its results have settled.

It polls OpenF1's REST API within its public limit (30 requests per 10 s).
With an OpenF1 account (PODIUM_OPENF1_USERNAME and PODIUM_OPENF1_PASSWORD, or
openf1.username/password in the config file) it subscribes to OpenF1's
real-time MQTT feed instead. Drivers and teams get the archive's ids where the
season is in the bundled archive.

Run it next to podium serve (or a worker) to see the race move on the
dashboard.`,
		Example: `  podium f1 live
  podium f1 live --session 9472
  podium f1 live --since now`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var liveSince time.Time
			switch since {
			case "":
			case "now":
				liveSince = time.Now()
			default:
				t, err := time.Parse(time.RFC3339, since)
				if err != nil {
					return usageErrorf("invalid --since %q: use now or an RFC 3339 time such as 2024-03-02T15:00:00Z", since)
				}
				liveSince = t
			}
			arc, err := archive.Load()
			if err != nil {
				return err
			}
			p, err := platform.Open(cmd.Context(), a.cfg, a.logger, platform.Client, "f1 live")
			if err != nil {
				return err
			}
			defer p.Close()
			// f1.live carries tens of thousands of updates per race and is
			// only useful while the race runs.
			if err := p.Bus.EnsureTopic(cmd.Context(), bus.TopicConfig{Name: f1.TopicLive, MaxAge: 24 * time.Hour, MaxBytes: 256 << 20}); err != nil {
				return err
			}
			c := openf1.New(openf1.Config{
				BaseURL:  a.cfg.Get("openf1.url").String(),
				Username: a.cfg.Get("openf1.username").String(),
				Password: a.cfg.Get("openf1.password").String(),
				Logger:   a.logger,
			})
			f := &openf1.Follower{
				Client:    c,
				Session:   session,
				Resolver:  arc.Identities(),
				Logger:    a.logger,
				LiveSince: liveSince,
				PollOnly:  pollOnly,
				MQTTURL:   a.cfg.Get("openf1.mqtt_url").String(),
			}
			fmt.Fprintf(a.stderr, "following OpenF1 session %s (Ctrl-C to stop)\n", session)
			err = f.Run(cmd.Context(), p.Bus)
			if errors.Is(err, context.Canceled) && cmd.Context().Err() != nil {
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&session, "session", "latest", "OpenF1 session_key to follow, or latest")
	cmd.Flags().StringVar(&since, "since", "", "skip live rows before this time: now, or RFC 3339 (default: the whole session)")
	cmd.Flags().BoolVar(&pollOnly, "poll", false, "poll the REST API even with credentials (no MQTT)")
	return cmd
}
