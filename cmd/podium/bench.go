package main

import (
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/benchjob"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/progress"
	"github.com/podiumhq/podium/internal/store"
)

func newBenchCmd(a *app) *cobra.Command {
	var o benchjob.Options
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the configured bus and store with the real job: JSON activities into an upserted table",
		Long: `Measure what the configured bus and store sustain, on a scratch topic and
table removed afterwards (also on Ctrl-C):

  publish   the events, each publish waiting for its acknowledgement
  consume   reading them back in a consumer group (Fetch + Commit), no decoding
  job       the real job through the stage runtime: JSON activity events
            (--size bytes) → decode → upsert into a 7-column table, positions
            committed in the same transaction
  latency   with --rate: one event at a time at that rate, publish to
            committed row (p50, p99, max)
  raw       with --raw: JSON decode alone and the store's fastest bulk write
            (SQLite multi-row insert, PostgreSQL COPY), for comparison

The event and the table are fixed in package internal/benchjob, so runs
compare. Run it on an idle podium: a running serve shares the machine.`,
		Example: `  podium bench
  podium bench --events 200000 --rate 1000 --raw
  podium bench --store postgres://podium@db/podium --json | jq .job.events_per_s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Events <= 0 {
				return usageErrorf("--events must be positive, got %d", o.Events)
			}
			if o.Size < 0 || o.Workers < 1 || o.Rate < 0 || o.RateFor <= 0 {
				return usageErrorf("--size must be ≥ 0, --workers ≥ 1, --rate ≥ 0 and --rate-for > 0")
			}
			p, err := platform.Open(cmd.Context(), a.cfg, a.logger, platform.Client, "bench")
			if err != nil {
				return err
			}
			defer p.Close()
			o.Bar = func(label string, total int64) *progress.Bar { return progress.New(a.stderr, label, total) }
			res, err := benchjob.Run(cmd.Context(), p.Env(), benchjob.New(), o)
			if err != nil {
				return err
			}
			res.Bus = a.cfg.Bus
			if res.Bus == "" {
				res.Bus = "embedded JetStream"
			}
			res.Store = store.Redact(a.cfg.ResolvedStore())
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			return benchjob.WriteTable(a.stdout, res)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Events, "events", 100_000, "events of the publish, consume and job phases")
	f.IntVar(&o.Size, "size", benchjob.DefaultSize, "bytes per event (the comment is padded)")
	f.IntVar(&o.Workers, "workers", 1, "publishers publishing at once")
	f.IntVar(&o.Rate, "rate", 1000, "events/s of the latency phase; 0 skips it")
	f.DurationVar(&o.RateFor, "rate-for", 5*time.Second, "how long the latency phase publishes")
	f.BoolVar(&o.Raw, "raw", false, "also measure JSON decode and the store's fastest bulk write")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
