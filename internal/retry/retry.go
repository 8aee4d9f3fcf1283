// Package retry holds podium's one definition of how to wait before trying
// again: exponential backoff, the Retry-After header, and the split of
// failures into transient ones (try again later) and permanent ones (trying
// again cannot help). Every loop that retries — the stage runtime, the
// change-data capture, the outside services' clients — uses it.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff is an exponential backoff: Initial before the first retry,
// doubling up to Max. The zero value waits 100 ms doubling up to 30 s.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	// Jitter, between 0 and 1, takes up to that fraction off each delay at
	// random, so that many clients failing together do not retry together.
	Jitter float64
}

// Delay returns the wait before retry number attempt (1 for the first
// retry).
func (b Backoff) Delay(attempt int) time.Duration {
	initial, ceiling := b.Initial, b.Max
	if initial <= 0 {
		initial = 100 * time.Millisecond
	}
	if ceiling <= 0 {
		ceiling = 30 * time.Second
	}
	d := initial
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	if b.Jitter > 0 {
		d -= time.Duration(rand.Float64() * min(b.Jitter, 1) * float64(d))
	}
	return d
}

// Sleep waits d, or until ctx ends, which it returns.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ParseRetryAfter reads a Retry-After header, seconds or an HTTP date,
// relative to now. ok is false when the header is missing or unreadable.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Permanent marks err as a failure that trying again cannot change (a
// revoked credential, a deleted resource, a refused payload).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// After marks err as transient with a wait the service asked for (a 429's
// or a 503's Retry-After).
func After(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &afterError{err, d}
}

type afterError struct {
	err error
	d   time.Duration
}

func (e *afterError) Error() string { return e.err.Error() }
func (e *afterError) Unwrap() error { return e.err }

// AfterOf returns the wait After attached to err, if any.
func AfterOf(err error) (time.Duration, bool) {
	var a *afterError
	if errors.As(err, &a) {
		return a.d, true
	}
	return 0, false
}

// Wait returns how long to wait before retry number attempt after err: the
// wait the service asked for (After) when there is one, else b's delay.
// limit, if positive, caps a wait the service asked for.
func (b Backoff) Wait(attempt int, err error, limit time.Duration) time.Duration {
	if d, ok := AfterOf(err); ok {
		if limit > 0 {
			d = min(d, limit)
		}
		return d
	}
	return b.Delay(attempt)
}

// HTTPStatus classifies an HTTP answer's status: nil for 2xx; for the others
// an error naming the status and the start of body, wrapped by Permanent
// unless trying again can help (408, 425, 429 and 5xx), and by After when
// header carries a Retry-After.
func HTTPStatus(code int, header http.Header, body []byte, now time.Time) error {
	if code >= 200 && code < 300 {
		return nil
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	msg := strconv.Itoa(code) + " " + http.StatusText(code)
	if text != "" {
		msg += ": " + text
	}
	err := errors.New(msg)
	if !Transient(code) {
		return Permanent(err)
	}
	if d, ok := ParseRetryAfter(header.Get("Retry-After"), now); ok {
		return After(err, d)
	}
	return err
}

// Transient reports whether an HTTP status may succeed if the request is
// sent again: 408, 425, 429 and every 5xx.
func Transient(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		return true
	case code >= 500:
		return true
	}
	return false
}
