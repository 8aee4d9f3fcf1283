package stream

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/retry"
)

// Supervise runs stages until ctx ends, each under Restart, so that one
// pipeline's trouble — a database restart, a broker failover — does not stop
// the others. It returns when every stage has stopped.
func Supervise(ctx context.Context, env Env, stages []Runnable) {
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var wg sync.WaitGroup
	for _, s := range stages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp := s.Spec()
			Restart(ctx, log, "stage "+sp.Name, func(ctx context.Context) error {
				err := s.Run(ctx, env)
				if ctx.Err() == nil {
					env.Metrics.stopped(sp.Name, sp.Topic, err)
				}
				return err
			})
		}()
	}
	wg.Wait()
}

// restartBackoff paces the restarts of a failing stage or service.
var restartBackoff = retry.Backoff{Initial: time.Second, Max: time.Minute}

// Restart runs run until ctx ends. When run fails, or returns while ctx
// is still live, it is logged and started again after a backoff (1 s,
// doubling up to a minute; back to 1 s after a minute of good running).
func Restart(ctx context.Context, log *slog.Logger, what string, run func(context.Context) error) {
	attempt := 0
	for {
		start := time.Now()
		err := run(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("stopped unexpectedly")
		}
		if time.Since(start) > time.Minute {
			attempt = 0
		}
		attempt++
		wait := restartBackoff.Delay(attempt)
		log.Error(what+" failed; restarting", "err", err, "backoff", wait)
		if retry.Sleep(ctx, wait) != nil {
			return
		}
	}
}
