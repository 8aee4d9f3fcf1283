package openf1

import (
	"slices"
	"sync"
	"time"
)

// windowLimiter allows at most n requests in any window of the given
// length: a sliding window, which is how OpenF1 counts ("30/10seconds" per
// client address). A token bucket of the same rate would allow a burst of
// up to 2n in the first window.
type windowLimiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	// sent holds the send times reserved in the last window, ascending;
	// some may lie in the future (granted, not yet sent).
	sent []time.Time
}

func newWindowLimiter(n int, window time.Duration) *windowLimiter {
	return &windowLimiter{n: n, window: window}
}

// reserve books the next request slot and returns how long after now the
// caller must wait before sending it.
func (l *windowLimiter) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget sends that have left the window.
	cut := 0
	for cut < len(l.sent) && !l.sent[cut].After(now.Add(-l.window)) {
		cut++
	}
	l.sent = l.sent[cut:]

	at := now
	if len(l.sent) >= l.n {
		// The request may go once the n-th most recent one leaves the window.
		if t := l.sent[len(l.sent)-l.n].Add(l.window); t.After(at) {
			at = t
		}
	}
	i, _ := slices.BinarySearchFunc(l.sent, at, func(a, b time.Time) int { return a.Compare(b) })
	l.sent = slices.Insert(l.sent, i, at)
	return at.Sub(now)
}
