package main

import (
	"slices"

	"github.com/podiumhq/podium/internal/platform"
)

// pipelines returns what runs in podium: every pipeline, listed here, built
// from the configuration and the open engines of p. Tests add their own
// through app.extraPipelines.
func (a *app) pipelines(p *platform.App) []platform.Pipeline {
	out := []platform.Pipeline{
		a.f1Pipeline(p),
		a.activitiesPipeline(p),
	}
	for _, f := range a.extraPipelines {
		out = append(out, f(a, p))
	}
	// The pipeline serving the overview at / comes first in the navigation.
	slices.SortStableFunc(out, func(x, y platform.Pipeline) int {
		switch {
		case x.Home == y.Home:
			return 0
		case x.Home:
			return -1
		}
		return 1
	})
	return out
}
