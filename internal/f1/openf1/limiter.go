package openf1

import (
	"sync"
	"time"
)

// rateWindow allows n requests in any window of the given length.
type rateWindow struct {
	n      int
	window time.Duration
}

// windowLimiter allows at most n requests in any window of each of its
// lengths: sliding windows, which is how OpenF1 counts (per client
// address). A token bucket of the same rate would allow a burst of up to
// 2n in the first window.
type windowLimiter struct {
	mu      sync.Mutex
	windows []rateWindow
	longest time.Duration
	// sent holds the send times reserved, ascending, back to the longest
	// window; the last ones may lie in the future (granted, not yet sent).
	sent []time.Time
}

func newWindowLimiter(windows ...rateWindow) *windowLimiter {
	l := &windowLimiter{windows: windows}
	for _, w := range windows {
		l.longest = max(l.longest, w.window)
	}
	return l
}

// reserve books the next request slot and returns how long after now the
// caller must wait before sending it. Slots are granted in the order of
// the calls.
func (l *windowLimiter) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget sends that have left every window.
	cut := 0
	for cut < len(l.sent) && !l.sent[cut].After(now.Add(-l.longest)) {
		cut++
	}
	l.sent = l.sent[cut:]

	at := now
	if k := len(l.sent); k > 0 && l.sent[k-1].After(at) {
		at = l.sent[k-1] // after the requests already waiting
	}
	// Every send is at or before at: the request may go once each window
	// ending at its slot holds fewer than n sends. Moving at later only
	// empties windows, so this settles within a pass or two.
	for moved := true; moved; {
		moved = false
		for _, w := range l.windows {
			k := len(l.sent)
			if k < w.n {
				continue
			}
			// The n-th most recent send must have left the window.
			if t := l.sent[k-w.n].Add(w.window); t.After(at) {
				at, moved = t, true
			}
		}
	}
	l.sent = append(l.sent, at)
	return at.Sub(now)
}
