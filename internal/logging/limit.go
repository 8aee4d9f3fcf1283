package logging

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Limited logs a recurring event (a wrong token, say) at most once per
// Interval, so that a client hammering an endpoint cannot flood the logs.
// The first occurrence is logged at once; the later ones within the
// interval are counted, and the next line logged carries the attribute
// "count": how many occurrences it stands for (itself included). Its zero
// value logs at most once a minute.
type Limited struct {
	// Interval is the least time between two lines; default one minute.
	Interval time.Duration
	// Now returns the current time; default time.Now (tests set it).
	Now func() time.Time

	mu     sync.Mutex
	last   time.Time
	logged bool
	count  int
}

// Log logs msg with args at level on log, or counts it when a line was
// logged less than Interval ago.
func (l *Limited) Log(ctx context.Context, log *slog.Logger, level slog.Level, msg string, args ...any) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	interval := l.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	t := now()
	l.mu.Lock()
	l.count++
	if l.logged && t.Sub(l.last) < interval {
		l.mu.Unlock()
		return
	}
	n := l.count
	l.count, l.last, l.logged = 0, t, true
	l.mu.Unlock()
	log.Log(ctx, level, msg, append(args, "count", n, "per", interval.String())...)
}
