package main

import (
	"context"

	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// pipeline is what one pipeline (F1, activities) adds to the binary. Each
// pipeline's command file registers one from an init function.
type pipeline struct {
	name string
	// processors returns the pipeline's processors.
	processors func(p *platform.App) []stream.Runnable
	// routes adds the pipeline's pages (and navigation links) to the web
	// server; nil for none.
	routes func(p *platform.App, srv *web.Server)
	// home is true when routes serves the overview at "/".
	home bool
	// source runs what feeds the pipeline's topics from outside the bus
	// (change-data-capture) in serve and demo, until ctx ends; nil for
	// none. It runs in one process only: workers do not start it.
	source func(ctx context.Context, a *app, p *platform.App)
	// demo feeds sample data during `podium demo` until ctx ends; nil for
	// none.
	demo func(ctx context.Context, a *app, p *platform.App) error
	// tables lists tables the pipeline owns outside its processors (e.g.
	// imported reference data), dropped by `podium reset`.
	tables []string
}

var pipelines []pipeline

func registerPipeline(p pipeline) { pipelines = append(pipelines, p) }

// processors returns the processors of every pipeline.
func processors(p *platform.App) []stream.Runnable {
	var out []stream.Runnable
	for _, pl := range pipelines {
		if pl.processors != nil {
			out = append(out, pl.processors(p)...)
		}
	}
	return out
}

func specs(procs []stream.Runnable) []stream.Spec {
	out := make([]stream.Spec, len(procs))
	for i, p := range procs {
		out[i] = p.Spec()
	}
	return out
}
