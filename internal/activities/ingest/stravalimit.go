package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/retry"
)

// Strava's rate limits (https://developers.strava.com/docs/rate-limits/):
// every answer carries X-RateLimit-Limit and X-RateLimit-Usage, two numbers
// each — the 15-minute window, then the day — e.g. "200,2000" and
// "100,1200". The 15-minute windows start at :00, :15, :30 and :45; the
// day at midnight UTC. Over a limit Strava answers 429. Reads have their own,
// lower limits in X-ReadRateLimit-Limit/-Usage, read the same way.

// window is one of Strava's rate-limit windows.
type window struct {
	limit, usage int
}

// rateLimits is what the last answer said of the limits, and when.
type rateLimits struct {
	mu       sync.Mutex
	at       time.Time // when the last answer with the headers came
	quarter  window
	day      window
	exceeded time.Time // a 429 came at this time, for the window of at
	dayOver  bool      // the 429 was the daily limit
}

// nextQuarter returns the start of the 15-minute window after t's.
func nextQuarter(t time.Time) time.Time {
	return t.UTC().Truncate(15 * time.Minute).Add(15 * time.Minute)
}

// nextDay returns the next midnight UTC after t.
func nextDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// parsePair reads "a,b".
func parsePair(v string) (a, b int, ok bool) {
	x, y, found := strings.Cut(v, ",")
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(x))
	b, err2 := strconv.Atoi(strings.TrimSpace(y))
	return a, b, err1 == nil && err2 == nil && a >= 0 && b >= 0
}

// observe records the limits of an answer received at now.
func (l *rateLimits) observe(h http.Header, status int, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	got := false
	for _, p := range [][2]string{{"X-RateLimit-Limit", "X-RateLimit-Usage"}, {"X-ReadRateLimit-Limit", "X-ReadRateLimit-Usage"}} {
		ql, dl, ok1 := parsePair(h.Get(p[0]))
		qu, du, ok2 := parsePair(h.Get(p[1]))
		if !ok1 || !ok2 {
			continue
		}
		q, d := window{ql, qu}, window{dl, du}
		if !got {
			l.quarter, l.day, got = q, d, true
			continue
		}
		// The tighter of the overall and the read limits counts.
		if q.limit-q.usage < l.quarter.limit-l.quarter.usage {
			l.quarter = q
		}
		if d.limit-d.usage < l.day.limit-l.day.usage {
			l.day = d
		}
	}
	if got {
		l.at = now
	}
	if status == http.StatusTooManyRequests {
		l.exceeded = now
		l.dayOver = got && l.day.limit > 0 && l.day.usage >= l.day.limit
	}
}

// wait returns how long to wait at now before the next call: 0 when the
// limits allow it, else until the window that is full ends.
func (l *rateLimits) wait(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var until time.Time
	sameQuarter := func(t time.Time) bool { return !t.IsZero() && nextQuarter(t).After(now) }
	sameDay := func(t time.Time) bool { return !t.IsZero() && nextDay(t).After(now) }
	switch {
	case sameDay(l.at) && l.day.limit > 0 && l.day.usage >= l.day.limit, sameDay(l.exceeded) && l.dayOver:
		until = nextDay(now)
	case sameQuarter(l.at) && l.quarter.limit > 0 && l.quarter.usage >= l.quarter.limit, sameQuarter(l.exceeded):
		until = nextQuarter(now)
	default:
		return 0
	}
	return until.Sub(now)
}

// errRateLimited is the error of a call that Strava's limits hold back.
var errRateLimited = errors.New("the Strava rate limit is reached")

// rateLimited returns the error of a call held back for d.
func rateLimited(d time.Duration, now time.Time) error {
	return retry.After(fmt.Errorf("%w: waiting until %s", errRateLimited, now.Add(d).UTC().Format(time.RFC3339)), d)
}

// stravaFault is the body of Strava's errors:
// {"message":"Authorization Error","errors":[{"resource":"Athlete","field":"access_token","code":"invalid"}]}.
type stravaFault struct {
	Message string `json:"message"`
	Errors  []struct {
		Resource string `json:"resource"`
		Field    string `json:"field"`
		Code     string `json:"code"`
	} `json:"errors"`
}

// parseFault reads a Strava error body; ok is false when it is not one.
func parseFault(body []byte) (stravaFault, bool) {
	var f stravaFault
	if json.Unmarshal(body, &f) != nil || f.Message == "" {
		return f, false
	}
	return f, true
}

// String is the fault in one line: "Authorization Error (Athlete
// access_token invalid)".
func (f stravaFault) String() string {
	var parts []string
	for _, e := range f.Errors {
		parts = append(parts, strings.TrimSpace(e.Resource+" "+e.Field+" "+e.Code))
	}
	if len(parts) == 0 {
		return f.Message
	}
	return f.Message + " (" + strings.Join(parts, "; ") + ")"
}

// refreshRefused reports whether a refusal of the token endpoint is about
// the athlete's refresh token (revoked, or never valid) rather than
// podium's client credentials.
func (f stravaFault) refreshRefused() bool {
	for _, e := range f.Errors {
		if e.Field == "refresh_token" || e.Resource == "RefreshToken" || e.Resource == "Athlete" {
			return true
		}
	}
	return false
}

// revokedError is Strava refusing an athlete's authorization: the athlete
// is marked disconnected until linked again.
type revokedError struct{ reason string }

func (e *revokedError) Error() string { return "authorization refused by Strava: " + e.reason }
