package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

func newServeCmd(a *app) *cobra.Command {
	var only []string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the stages and the web dashboard",
		Long: `Run every pipeline's stages and sources and the HTTP server: the dashboard,
/healthz, /readyz and /metrics (Prometheus). The pages follow what the stages
of every podium process commit (through the bus's podium.notices topic), so a
serve next to workers shows their work live; --processors none makes it a
dashboard only.

serve holds the data dir. With the embedded bus (the default), other podium
commands on the same data dir reach the bus through this process. Stop it with
Ctrl-C (SIGINT) or SIGTERM: it finishes the batches in hand, commits them and
exits.`,
		Example: `  podium serve
  podium serve --http 0.0.0.0:8080 --store postgres://podium@db:5432/podium --bus kafka://redpanda:9092
  podium serve --processors none   # the dashboard of workers running elsewhere`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), "serve", true, only, false)
		},
	}
	cmd.Flags().StringSliceVar(&only, "processors", nil, "run only these stages (comma-separated names; none for no stage; default all)")
	return cmd
}

func newWorkerCmd(a *app) *cobra.Command {
	var only []string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run processors without the dashboard (scale-out)",
		Long: `Run processors with only /healthz, /readyz and /metrics on the HTTP address,
no dashboard. Start several workers against Kafka/Redpanda and PostgreSQL to
spread the partitions of each topic over them; positions are committed with
the effects in PostgreSQL, so a worker that dies mid-batch leaves nothing half
done.`,
		Example: `  podium worker --bus kafka://redpanda:9092 --store postgres://podium@db/podium --http :9101
  podium worker --processors f1-results,f1-penalties`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), "worker", false, only, false)
		},
	}
	cmd.Flags().StringSliceVar(&only, "processors", nil, "run only these stages (comma-separated names; none for no stage; default all)")
	return cmd
}

func newDemoCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Run everything in one process with sample data: the quickest tour",
		Long: `Run podium with every pipeline fed with sample data: serve, plus each
pipeline's demo feed (the F1 season archive replayed at race pace, the
activities sample). Open the printed URL to watch the tables fill in.

Nothing needs installing: the bus (NATS JetStream) and the database (SQLite)
run inside the process, in the data dir.`,
		Example: `  podium demo
  podium demo --http localhost:9090 --data-dir /tmp/podium-demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), "demo", true, nil, true)
		},
	}
}

// demoMemoryLimit is `podium demo`'s soft memory limit unless memory_limit
// or GOMEMLIMIT is set: its live heap peaks at 60-75 MB for about a second
// while the pipelines catch up and at the lake sink's first commit, and the
// Go runtime's default (GOGC=100) lets the heap double before collecting;
// near the limit the collector runs more often through those peaks (about
// 60 collections in the first 40 s instead of 24). BENCHMARKS.md "Point 4"
// has the figures.
const demoMemoryLimit = 80 << 20

// memoryLimit is the soft limit of the Go runtime's memory for serve, worker
// or demo: the memory_limit setting, else demoMemoryLimit for the demo when
// GOMEMLIMIT is not set; 0 leaves the runtime's own (GOMEMLIMIT or none).
func (a *app) memoryLimit(demo bool) int64 {
	v := a.cfg.Get(config.KeyMemoryLimit)
	if v.Source != config.SourceDefault {
		return v.Bytes()
	}
	if _, set := a.lookupEnv("GOMEMLIMIT"); set || !demo {
		return 0
	}
	return demoMemoryLimit
}

// serve runs the stages (all, or those named in only) and the HTTP server
// until ctx ends; dashboard adds the pipelines' pages and sources; demo
// their demo feeds. Everything it starts runs in one group, joined before
// it returns.
func (a *app) serve(ctx context.Context, command string, dashboard bool, only []string, demo bool) error {
	if n := a.memoryLimit(demo); n > 0 {
		debug.SetMemoryLimit(n)
		a.logger.Debug("memory limit set", "bytes", n)
	}
	p, err := platform.Open(ctx, a.cfg, a.logger, platform.Server, command)
	if err != nil {
		return err
	}
	defer p.Close()

	pipelines := a.pipelines(p)
	stages := platform.Stages(pipelines)
	if len(only) == 1 && only[0] == "none" {
		stages = nil
	} else if len(only) > 0 {
		var names []string
		var kept []stream.Runnable
		for _, st := range stages {
			names = append(names, st.Spec().Name)
			if slices.Contains(only, st.Spec().Name) {
				kept = append(kept, st)
			}
		}
		if len(kept) != len(only) {
			return usageErrorf("unknown stage in --processors %s: known stages are %s", strings.Join(only, ","), strings.Join(names, ", "))
		}
		stages = kept
	}
	sp := platform.Specs(stages)
	p.Registry.MustRegister(stream.LagCollector{Bus: p.Bus, DB: p.Store.DB(), Specs: func() []stream.Spec { return sp }, Logger: a.logger})
	for _, s := range sp {
		if err := stream.Migrate(ctx, p.Store, s); err != nil {
			return err
		}
	}

	// Ready: the bus and the store answer, and every stage of this
	// process runs and commits.
	ready := func(ctx context.Context) error { return errors.Join(p.Ready(ctx), p.Metrics.StagesReady(sp)) }
	srv := web.New(web.Config{Gatherer: p.Registry, Registerer: p.Registry, Ready: ready, Logger: a.logger, Hub: p.Hub, Limits: web.LimitsFrom(a.cfg)})
	if dashboard {
		home := false
		for _, pl := range pipelines {
			if pl.Routes != nil {
				pl.Routes(srv)
			}
			home = home || pl.Home
		}
		srv.HandlePipeline(web.PipelineSource{Bus: p.Bus, DB: p.Store.DB(), Specs: sp, Metrics: p.Metrics})
		if !home {
			srv.Mux.Handle("GET /{$}", http.RedirectHandler("/pipeline", http.StatusFound))
		}
		srv.Background(func(ctx context.Context) { srv.Tick(ctx, 2*time.Second) })
	}
	ln, err := web.Listen(a.cfg.HTTPAddr)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	if err := p.PublishHTTP(addr); err != nil {
		return err
	}
	a.banner(command, p, addr, sp)

	// Whatever ends the server (ctx, or an error) ends the rest.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g platform.Group
	if dashboard {
		// The pages follow what the stages of every process commit.
		g.Go(p.Notices.Relay(ctx, func(n stream.Notice) { srv.Hub.Publish(n.Event, n.Data) }))
	} else {
		g.Go(func() { p.Notices.Run(ctx) })
	}
	g.Go(func() { stream.Supervise(ctx, p.Env(), stages) })
	for _, pl := range pipelines {
		if dashboard {
			for _, s := range pl.Sources {
				g.Service(ctx, a.logger, s)
			}
		}
		if demo {
			for _, s := range pl.Demo {
				g.Service(ctx, a.logger, s)
			}
		}
	}
	err = srv.Serve(ctx, ln)
	cancel()
	g.Wait()
	a.logger.Info("stopped cleanly")
	return err
}

func (a *app) banner(command string, p *platform.App, addr string, sp []stream.Spec) {
	busDesc := "embedded NATS JetStream in " + a.cfg.DataDir
	if a.cfg.Bus != "" {
		busDesc = config.MaskURL(a.cfg.Bus)
	}
	names := "(none)"
	if len(sp) > 0 {
		names = sp[0].Name
		for _, s := range sp[1:] {
			names += ", " + s.Name
		}
	}
	fmt.Fprintf(a.stderr, "podium %s: http://%s\n  bus:        %s\n  store:      %s\n  processors: %s\n  stop with Ctrl-C\n",
		command, dialAddr(addr), busDesc, p.Store, names)
}
