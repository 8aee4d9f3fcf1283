package ops

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
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
	var wg sync.WaitGroup
	var mu sync.Mutex
	var runErr error
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.Run(runCtx, env)
			if err == nil && runCtx.Err() == nil {
				err = fmt.Errorf("processor %s stopped before catching up", p.Spec().Name)
			}
			if err != nil {
				mu.Lock()
				runErr = cmp.Or(runErr, err)
				mu.Unlock()
				cancel()
			}
		}()
	}
	waitErr := WaitCaughtUp(runCtx, env.Bus, env.Store.DB(), specs, 50*time.Millisecond, bar, nil)
	cancel()
	wg.Wait()
	switch {
	case runErr != nil:
		return runErr
	case ctx.Err() != nil:
		return ctx.Err()
	case waitErr != nil:
		return waitErr
	}
	bar.Finish()
	return nil
}

// WaitCaughtUp polls, every interval, the lag of the processors specs
// describes — the messages on their topics not yet committed in the store —
// until it is zero, showing progress on bar (may be nil). stalled, if not
// nil, is called once when there has been no progress for 15 seconds (to
// say, for instance, that no process seems to run the processors).
func WaitCaughtUp(ctx context.Context, b bus.Bus, db *sql.DB, specs []stream.Spec, interval time.Duration, bar *progress.Bar, stalled func()) error {
	var first int64 = -1
	start := time.Now()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		lags, err := stream.Lags(ctx, b, db, specs)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read the processors' lag: %w", err)
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
			return nil
		}
		if stalled != nil && lag == first && time.Since(start) > 15*time.Second {
			stalled()
			stalled = nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Rebuild drops what stage p keeps — its tables, its outside store (a
// sink's, through Spec.Reset) and its positions — and replays its topic
// from the start until it has caught up. An effect stage's ledger stays:
// it is the record of the calls already made, so that the replay makes none
// twice. Stop the processes that run p before a rebuild: they would write
// into what is being rebuilt.
func Rebuild(ctx context.Context, env stream.Env, p stream.Runnable, bar *progress.Bar) error {
	spec := p.Spec()
	if err := stream.Migrate(ctx, env.Store, stream.Spec{}); err != nil {
		return err
	}
	if spec.Reset != nil {
		if err := spec.Reset(ctx, env); err != nil {
			return fmt.Errorf("reset %s: %w", spec.Name, err)
		}
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

// Reset drops what the given stages keep (their tables and outside
// stores), the runtime's own tables, and deletes every topic on the bus. It
// destroys data: ask first.
func Reset(ctx context.Context, env stream.Env, specs []stream.Spec, extraTables ...string) error {
	var tables []string
	for _, sp := range specs {
		if sp.Reset != nil {
			if err := sp.Reset(ctx, env); err != nil {
				return fmt.Errorf("reset %s: %w", sp.Name, err)
			}
		}
		tables = append(tables, sp.Tables...)
	}
	tables = append(tables, extraTables...)
	tables = append(tables, "podium_positions", "podium_effects", "podium_migrations")
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
