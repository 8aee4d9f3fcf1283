package ops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/progress"
	"github.com/podiumhq/podium/internal/stream"
)

// CatchUp runs the processors until each has committed every message its
// topic held when CatchUp began (or that arrived meanwhile, if they keep up),
// then stops them. bar, if not nil, shows the messages committed.
func CatchUp(ctx context.Context, env stream.Env, procs []stream.Runnable, bar *progress.Bar) error {
	specs := make([]stream.Spec, len(procs))
	for i, p := range procs {
		specs[i] = p.Spec()
		if err := stream.Migrate(ctx, env.Store, specs[i]); err != nil {
			return err
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(procs))
	for _, p := range procs {
		go func() { errc <- p.Run(runCtx, env) }()
	}
	var first int64 = -1
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	running := len(procs)
	var runErr error
	for {
		select {
		case <-ctx.Done():
			cancel()
			for ; running > 0; running-- {
				<-errc
			}
			return ctx.Err()
		case err := <-errc:
			running--
			if err != nil {
				runErr = err
				cancel()
			}
			if running == 0 {
				if runErr == nil {
					runErr = errors.New("processors stopped before catching up")
				}
				return runErr
			}
			continue
		case <-tick.C:
		}
		lags, err := stream.Lags(ctx, env.Bus, env.Store.DB(), specs)
		if err != nil {
			cancel()
			return err
		}
		var lag int64
		for _, l := range lags {
			lag += l.Lag
		}
		if first < 0 {
			first = lag
			bar.SetTotal(first)
		}
		bar.Set(max(first-lag, 0))
		if lag == 0 {
			cancel()
			for ; running > 0; running-- {
				if err := <-errc; err != nil {
					return err
				}
			}
			bar.Finish()
			return nil
		}
	}
}

// Rebuild drops the tables and positions of processor p and replays its
// topic from the start until it has caught up. Stop the processes that run
// p before a rebuild: they would write into the tables being rebuilt.
func Rebuild(ctx context.Context, env stream.Env, p stream.Runnable, bar *progress.Bar) error {
	spec := p.Spec()
	if err := stream.Migrate(ctx, env.Store, stream.Spec{}); err != nil {
		return err
	}
	if err := env.Store.DropTables(ctx, spec.Tables...); err != nil {
		return err
	}
	if err := env.Store.Forget(ctx, spec.Name); err != nil {
		return err
	}
	if _, err := env.Store.DB().ExecContext(ctx, `DELETE FROM podium_positions WHERE processor = $1`, spec.Name); err != nil {
		return fmt.Errorf("delete positions of %s: %w", spec.Name, err)
	}
	return CatchUp(ctx, env, []stream.Runnable{p}, bar)
}

// Reset drops the tables of the given processors and the runtime's own,
// and deletes every topic on the bus. It destroys data: ask first.
func Reset(ctx context.Context, env stream.Env, specs []stream.Spec, extraTables ...string) error {
	var tables []string
	for _, sp := range specs {
		tables = append(tables, sp.Tables...)
	}
	tables = append(tables, extraTables...)
	tables = append(tables, "podium_positions", "podium_migrations")
	if err := env.Store.DropTables(ctx, tables...); err != nil {
		return err
	}
	topics, err := env.Bus.Topics(ctx)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	for _, t := range topics {
		if err := env.Bus.DeleteTopic(ctx, t.Name); err != nil && !errors.Is(err, bus.ErrUnknownTopic) {
			return fmt.Errorf("delete topic %s: %w", t.Name, err)
		}
	}
	return nil
}
