package main

import (
	"context"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/dashboard"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/web"
)

// f1Routes adds the F1 pages to srv and follows f1.live for them while the
// server runs.
func f1Routes(p *platform.App, srv *web.Server) {
	live := dashboard.NewLive()
	dashboard.Register(srv, dashboard.Options{DB: p.Store.DB(), Calendar: f1Calendar, Cars: f1Car, Live: live, Logger: p.Log})
	srv.Background(func(ctx context.Context) {
		live.Follow(ctx, p.Bus, p.Log, dashboard.NotifyLive(srv.Hub))
	})
}

// f1Car names a car of a live session from the archive.
func f1Car(season, round, car int) (archive.Car, bool) {
	arc, err := archive.Load()
	if err != nil {
		return archive.Car{}, false
	}
	return arc.Identities().Car(season, round, car)
}

// f1Calendar returns the calendar of a season of the archive.
func f1Calendar(season int) (f1.Calendar, bool) {
	arc, err := archive.Load()
	if err != nil {
		return f1.Calendar{}, false
	}
	s, ok := arc.Season(season)
	if !ok {
		return f1.Calendar{}, false
	}
	return s.Calendar(), true
}
