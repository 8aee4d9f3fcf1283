package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/openf1"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/progress"
	"github.com/podiumhq/podium/internal/suggest"
	"github.com/podiumhq/podium/internal/web"
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

// openf1Client returns the OpenF1 client of the configuration.
func (a *app) openf1Client() *openf1.Client {
	return openf1.New(openf1.Config{
		BaseURL:  a.cfg.Get("openf1.url").String(),
		Username: a.cfg.Get("openf1.username").String(),
		Password: a.cfg.Get("openf1.password").String(),
		Logger:   a.logger,
	})
}

// parseSince reads --since: now, or an RFC 3339 time.
func parseSince(since string) (time.Time, error) {
	switch since {
	case "":
		return time.Time{}, nil
	case "now":
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, since)
	if err != nil {
		return time.Time{}, usageErrorf("invalid --since %q: use now or an RFC 3339 time such as 2024-03-02T15:00:00Z", since)
	}
	return t, nil
}

// ensureLiveTopic creates f1.live with its retention: tens of thousands of
// updates per race, only useful while the race runs.
func ensureLiveTopic(ctx context.Context, b bus.Bus) error {
	return b.EnsureTopic(ctx, bus.TopicConfig{Name: f1.TopicLive, MaxAge: 24 * time.Hour, MaxBytes: 256 << 20})
}

func newF1LiveCmd(a *app) *cobra.Command {
	var session, since, metricsAddr string
	var pollOnly bool
	var delay time.Duration
	cmd := &cobra.Command{
		Use:   "live",
		Short: "Follow a session on OpenF1 and stream its results and running order",
		Long: `Follow a race or sprint on OpenF1 (https://openf1.org): publish new and
amended results to f1.results as they appear, and during the session the
drivers, running order, gaps, intervals, laps and race-control messages to
f1.live. It stops once the session is over and its results have settled.

Sources, best first: with an OpenF1 account (PODIUM_OPENF1_USERNAME and
PODIUM_OPENF1_PASSWORD, or openf1.username/password in the config file) the
real-time MQTT feed, its connection renewed before the access token (valid
one hour) expires; otherwise, and whenever the feed is down (at once when
its connection closes, within 6 s when the broker stops answering) or
silent for 20 s during the session, REST polling within OpenF1's public
limits (3 requests a second, 30 a minute); for a session long over that
OpenF1 has no results for, the bundled archive. Each switch is logged, counted
(podium_openf1_fallbacks_total, podium_openf1_source; see --metrics) and
shown on the race page. OpenF1's points are the official ones; a fastest lap
is claimed only when those points prove it.

--delay holds every update back, to match a TV stream that runs behind.
Drivers and teams get the archive's ids where the season is in the bundled
archive. Run it next to podium serve (or a worker) to see the race move on
the dashboard. To keep the feed for later, see podium f1 record.`,
		Example: `  podium f1 live
  podium f1 live --session 9472
  podium f1 live --since now --delay 30s
  PODIUM_OPENF1_USERNAME=me@example.com PODIUM_OPENF1_PASSWORD=... podium f1 live --metrics localhost:9464`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkSession(session); err != nil {
				return err
			}
			liveSince, err := parseSince(since)
			if err != nil {
				return err
			}
			if delay < 0 {
				return usageErrorf("invalid --delay %s: use a positive duration such as 30s", delay)
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
			if err := ensureLiveTopic(cmd.Context(), p.Bus); err != nil {
				return err
			}
			if metricsAddr != "" {
				stop, err := serveMetrics(cmd.Context(), metricsAddr, p)
				if err != nil {
					return err
				}
				defer stop()
			}
			f := &openf1.Follower{
				Client:    a.openf1Client(),
				Session:   session,
				Resolver:  arc.Identities(),
				Archive:   arc.SessionResults,
				Logger:    a.logger,
				LiveSince: liveSince,
				PollOnly:  pollOnly,
				MQTTURL:   a.cfg.Get("openf1.mqtt_url").String(),
				Delay:     delay,
				Metrics:   p.Registry,
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
	cmd.Flags().DurationVar(&delay, "delay", 0, "broadcast delay: hold every update back this long, e.g. 30s to match a TV stream")
	cmd.Flags().StringVar(&metricsAddr, "metrics", "", "serve Prometheus metrics (the source, its fallbacks) on this address, e.g. localhost:9464")
	return cmd
}

// serveMetrics serves p's metrics at addr/metrics until stop is called.
func serveMetrics(ctx context.Context, addr string, p *platform.App) (stop func(), err error) {
	ln, err := web.Listen(addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(p.Registry, promhttp.HandlerOpts{}))
	srv := web.HTTPServer(mux, web.LimitsFrom(p.Config), p.Log)
	go func() { _ = srv.Serve(ln) }()
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

func newF1RecordCmd(a *app) *cobra.Command {
	var session, out, since string
	var pollOnly, force bool
	cmd := &cobra.Command{
		Use:   "record",
		Short: "Save an OpenF1 session's feed to a file as it arrives, to replay it later",
		Long: `Follow a session on OpenF1 as podium f1 live does (MQTT with an OpenF1 account,
REST polling otherwise) and save every new or changed row to a file as it
arrives, until the session is over and its results have settled. Nothing is
published: replay the file later, at any speed, with
podium f1 replay --file FILE.

The file is NDJSON, versioned: a header line
{"format":"podium.openf1.recording","version":1,"session_key":…,"started":…}
then one line per row, {"t":…,"endpoint":…,"source":…,"payload":{…}}, the
payload being the row as OpenF1 sent it. The session, its meeting, drivers
and starting grid come first, so the file replays without OpenF1.`,
		Example: `  podium f1 record --session latest --out bahrain-2025.ndjson
  podium f1 replay --file bahrain-2025.ndjson --speed 10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErrorf("--out is required: the file to write the recording to, e.g. --out race.ndjson")
			}
			if err := checkSession(session); err != nil {
				return err
			}
			liveSince, err := parseSince(since)
			if err != nil {
				return err
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			file, err := os.OpenFile(out, flags, 0o644)
			if errors.Is(err, os.ErrExist) {
				return usageErrorf("%s exists: choose another --out, or add --force to overwrite it", out)
			}
			if err != nil {
				return err
			}
			arc, err := archive.Load()
			if err != nil {
				return err
			}
			bar := progress.New(a.stderr, "record "+session+" (rows)", 0)
			rec := openf1.NewRecorder(file)
			rec.OnRows = func(n int) { bar.Set(int64(n)) }
			f := &openf1.Follower{
				Client:    a.openf1Client(),
				Session:   session,
				Resolver:  arc.Identities(),
				Logger:    a.logger,
				LiveSince: liveSince,
				PollOnly:  pollOnly,
				MQTTURL:   a.cfg.Get("openf1.mqtt_url").String(),
				Record:    rec,
			}
			err = f.Run(cmd.Context(), nil)
			bar.Finish()
			if cerr := file.Close(); cerr != nil && err == nil {
				err = cerr
			}
			if errors.Is(err, context.Canceled) && cmd.Context().Err() != nil {
				err = nil // Ctrl-C: the recording so far is complete up to there
			}
			if err != nil {
				return fmt.Errorf("record session %s: %w (the rows recorded so far are in %s)", session, err, out)
			}
			fmt.Fprintf(a.stderr, "%d rows recorded in %s: podium f1 replay --file %s --speed 10\n", rec.Rows(), out, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&session, "session", "latest", "OpenF1 session_key to record, or latest")
	cmd.Flags().StringVar(&out, "out", "", "file to write the recording to (required)")
	cmd.Flags().StringVar(&since, "since", "", "skip live rows before this time: now, or RFC 3339 (default: the whole session)")
	cmd.Flags().BoolVar(&pollOnly, "poll", false, "poll the REST API even with credentials (no MQTT)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite --out if it exists")
	return cmd
}

// checkSession is a usage error unless s names an OpenF1 session: a
// session_key or latest.
func checkSession(s string) error {
	if n, err := strconv.Atoi(s); s == openf1.Latest || err == nil && n > 0 {
		return nil
	}
	return usageError{&suggest.Error{Kind: "session", Name: s, Known: []string{openf1.Latest},
		Hint: "give an OpenF1 session_key (a number, such as 9472) or latest"}}
}
