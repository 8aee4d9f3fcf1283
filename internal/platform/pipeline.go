package platform

import (
	"context"
	"log/slog"
	"sync"

	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// Pipeline is what one pipeline (F1, activities) adds to podium: a value
// the command line lists, so that what runs is read in one place.
type Pipeline struct {
	// Name names the pipeline in logs.
	Name string
	// Stages are the pipeline's stages (their topics, tables and migrations
	// are in their Spec).
	Stages []stream.Runnable
	// Routes adds the pipeline's pages and their navigation links to the
	// web server of serve and demo; nil for none. Work that lives as long
	// as the pages goes to srv.Background.
	Routes func(srv *web.Server)
	// Home is true when Routes serves the overview at "/"; the home
	// pipeline comes first in the navigation.
	Home bool
	// Sources feed the pipeline's topics from outside the bus (the
	// change-data capture, a webhook's worker). serve and demo run them;
	// workers do not, so that one process runs each.
	Sources []Service
	// Demo feeds sample data during podium demo.
	Demo []Service
	// Tables lists the tables the pipeline owns outside its stages
	// (imported reference data), dropped by podium reset.
	Tables []string
}

// Service is a long-running part of a pipeline other than a stage.
type Service struct {
	// Name names it in logs.
	Name string
	// Run runs until ctx ends. An error, or a return while ctx is live,
	// restarts it after a backoff, unless Once is set.
	Run func(ctx context.Context) error
	// Once marks a job that ends (a demo's backfill): it is not restarted
	// when it returns nil; an error is logged.
	Once bool
}

// Stages returns the stages of pipelines.
func Stages(pipelines []Pipeline) []stream.Runnable {
	var out []stream.Runnable
	for _, p := range pipelines {
		out = append(out, p.Stages...)
	}
	return out
}

// Specs returns the descriptions of stages.
func Specs(stages []stream.Runnable) []stream.Spec {
	out := make([]stream.Spec, len(stages))
	for i, s := range stages {
		out[i] = s.Spec()
	}
	return out
}

// Group runs goroutines and waits for every one of them: what serve, worker
// and demo start is joined before they return.
type Group struct {
	wg sync.WaitGroup
}

// Go runs fn in a goroutine of the group.
func (g *Group) Go(fn func()) { g.wg.Go(fn) }

// Service runs s in the group until ctx ends: supervised (restarted after
// failures with backoff), or once.
func (g *Group) Service(ctx context.Context, log *slog.Logger, s Service) {
	g.wg.Go(func() {
		if !s.Once {
			stream.Restart(ctx, log, s.Name, s.Run)
			return
		}
		if err := s.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error(s.Name+" failed", "err", err)
		}
	})
}

// Wait waits for every goroutine of the group.
func (g *Group) Wait() { g.wg.Wait() }
