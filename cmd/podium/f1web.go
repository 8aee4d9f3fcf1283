package main

import (
	"context"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/dashboard"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// The F1 dashboard: f1.go registers the F1 pipeline; this file adds its
// pages (routes, home) and wires live updates into it. Its init runs after
// f1.go's (files initialise in name order).
func init() {
	for i := range pipelines {
		pl := &pipelines[i]
		if pl.name != "f1" {
			continue
		}
		pl.processors = withF1Notify(pl.processors)
		pl.routes = f1Routes
		pl.home = true
		return
	}
	// Without the pipeline, still serve the pages (without the F1
	// processors' notifications).
	registerPipeline(pipeline{name: "f1-dashboard", routes: f1Routes, home: true})
}

// withF1Notify returns the processors of procs with the F1 processors
// replaced by ones that tell the dashboard's browsers (through the
// process's hub) after each commit; any other processor is kept as it is.
func withF1Notify(procs func(*platform.App) []stream.Runnable) func(*platform.App) []stream.Runnable {
	return func(p *platform.App) []stream.Runnable {
		notified := map[string]stream.Runnable{}
		for _, r := range f1.Processors(dashboard.Notify(p.Hub)) {
			notified[r.Spec().Name] = r
		}
		var out []stream.Runnable
		for _, r := range procs(p) {
			if n, ok := notified[r.Spec().Name]; ok {
				r = n
			}
			out = append(out, r)
		}
		return out
	}
}

// f1Routes adds the F1 pages to srv and follows f1.live for them while the
// server runs.
func f1Routes(p *platform.App, srv *web.Server) {
	live := dashboard.NewLive()
	dashboard.Register(srv, dashboard.Options{DB: p.Store.DB(), Calendar: f1Calendar, Live: live, Logger: p.Log})
	srv.Background(func(ctx context.Context) {
		live.Follow(ctx, p.Bus, p.Log, dashboard.NotifyLive(srv.Hub))
	})
}

// f1Calendar returns the number of rounds of a season of the archive.
func f1Calendar(season int) (int, bool) {
	arc, err := archive.Load()
	if err != nil {
		return 0, false
	}
	s, ok := arc.Season(season)
	if !ok {
		return 0, false
	}
	return len(s.Rounds), true
}
