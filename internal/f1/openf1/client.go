// Package openf1 is podium's source of live F1 data: a client of the OpenF1
// API (https://openf1.org, REST and the real-time MQTT feed), the mapping
// of its session results to f1.Result, and the Follower behind
// `podium f1 live`, which publishes a session's results to f1.results and
// its running order, gaps, laps, pit stops and race-control messages to
// f1.live.
package openf1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/retry"
)

// DefaultBaseURL is OpenF1's REST API.
const DefaultBaseURL = "https://api.openf1.org/v1"

// Defaults of Config.
const (
	// PublicRatePerSecond and PublicRatePerMinute are OpenF1's documented
	// limits of its free tier, per client address: 3 requests in any
	// second and 30 in any minute. The client keeps to both by default.
	PublicRatePerSecond = 3
	PublicRatePerMinute = 30
	DefaultMaxRetries   = 4
	DefaultMinBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff   = 30 * time.Second
	// maxRetryAfter caps how long a Retry-After header can make a request wait.
	maxRetryAfter = 5 * time.Minute
	// maxBody caps a response body (a whole race of intervals is a few MB).
	maxBody = 256 << 20
)

// Config configures a Client. The zero value talks to the public API
// without credentials.
type Config struct {
	// BaseURL is the API root, default DefaultBaseURL.
	BaseURL string
	// TokenURL is where an access token is requested; default BaseURL's
	// parent + "/token" (https://api.openf1.org/token).
	TokenURL string
	// HTTPClient sends the requests; default a client with a 30 s timeout.
	HTTPClient *http.Client
	// Username and Password, when both are set, are exchanged for an
	// access token (POST /token) that authenticates every request and the
	// MQTT feed. They are never logged.
	Username string
	Password string
	// RateLimit is the number of requests allowed per RateWindow (default
	// 1 s) instead of OpenF1's public limits (PublicRatePerSecond and
	// PublicRatePerMinute), which 0 keeps; negative disables the limiter.
	RateLimit  int
	RateWindow time.Duration
	// MaxRetries is how many times a request failing with 429, 5xx or a
	// network error is retried; 0 means DefaultMaxRetries, negative none.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff between
	// retries (a Retry-After header overrides it).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// UserAgent is sent with every request, default "podium".
	UserAgent string
	// Logger receives request and retry logs; nil discards them.
	Logger *slog.Logger
}

// Client calls the OpenF1 REST API. It is safe for concurrent use.
type Client struct {
	base       string
	tokenURL   string
	http       *http.Client
	username   string
	password   string
	limiter    *windowLimiter // nil: no limit
	maxRetries int
	minBackoff time.Duration
	maxBackoff time.Duration
	userAgent  string
	log        *slog.Logger

	// now and sleep are the clock; tests replace them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	tokMu     sync.Mutex
	token     string
	tokExpiry time.Time
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	c := &Client{
		base:       strings.TrimRight(cfg.BaseURL, "/"),
		tokenURL:   cfg.TokenURL,
		http:       cfg.HTTPClient,
		username:   cfg.Username,
		password:   cfg.Password,
		maxRetries: cfg.MaxRetries,
		minBackoff: cfg.MinBackoff,
		maxBackoff: cfg.MaxBackoff,
		userAgent:  cfg.UserAgent,
		log:        cfg.Logger,
		now:        time.Now,
		sleep:      retry.Sleep,
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.tokenURL == "" {
		c.tokenURL = strings.TrimSuffix(c.base, "/v1") + "/token"
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.minBackoff <= 0 {
		c.minBackoff = DefaultMinBackoff
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = DefaultMaxBackoff
	}
	if c.maxBackoff < c.minBackoff {
		c.maxBackoff = c.minBackoff
	}
	if c.userAgent == "" {
		c.userAgent = "podium"
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.RateLimit == 0:
		c.limiter = newWindowLimiter(rateWindow{PublicRatePerSecond, time.Second}, rateWindow{PublicRatePerMinute, time.Minute})
	case cfg.RateLimit > 0:
		w := cfg.RateWindow
		if w <= 0 {
			w = time.Second
		}
		c.limiter = newWindowLimiter(rateWindow{cfg.RateLimit, w})
	}
	return c
}

// HasCredentials reports whether the client authenticates (Username and
// Password are set), which is what gives access to the MQTT feed.
func (c *Client) HasCredentials() bool { return c.username != "" && c.password != "" }

// Username returns the configured username (the MQTT username).
func (c *Client) Username() string { return c.username }

// APIError is a response OpenF1 answered with an error status.
type APIError struct {
	Method     string
	URL        string // path and query, no credentials
	StatusCode int
	Detail     string // OpenF1's "detail", or the start of the body
}

// Error implements error: method, request, status and OpenF1's detail.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("openf1: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Temporary reports whether retrying later may succeed (429 and 5xx).
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// list fetches endpoint's rows matching filters into a []T. OpenF1's 404
// {"detail":"No results found."} is an empty result.
func list[T any](ctx context.Context, c *Client, endpoint string, filters []Filter) ([]T, error) {
	u := c.base + "/" + endpoint
	if q := encodeFilters(filters); q != "" {
		u += "?" + q
	}
	body, err := c.do(ctx, http.MethodGet, u, nil, true)
	if err != nil {
		if isNoResults(err) {
			return []T{}, nil
		}
		return nil, err
	}
	out := []T{}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("openf1: decode %s: %w", endpoint, err)
	}
	return out, nil
}

// rawRows fetches endpoint's rows matching filters, each as OpenF1 sent
// it; the follower decodes them with DecodeRow, as it does MQTT messages.
func (c *Client) rawRows(ctx context.Context, endpoint string, filters []Filter) ([]json.RawMessage, error) {
	return list[json.RawMessage](ctx, c, endpoint, filters)
}

// isNoResults reports whether err is OpenF1's way of saying "no rows".
func isNoResults(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound &&
		strings.Contains(strings.ToLower(ae.Detail), "no results found")
}

// do sends a request with rate limiting, authentication and retries, and
// returns the body of a 2xx response.
func (c *Client) do(ctx context.Context, method, rawURL string, form url.Values, auth bool) ([]byte, error) {
	display := displayURL(rawURL)
	reauthed := false
	for attempt := 0; ; attempt++ {
		if err := c.wait(ctx); err != nil {
			return nil, err
		}
		var bodyReader io.Reader
		if form != nil {
			bodyReader = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, rawURL, bodyReader)
		if err != nil {
			return nil, fmt.Errorf("openf1: %s %s: %w", method, display, err)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.userAgent)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if auth && c.HasCredentials() {
			tok, err := c.accessToken(ctx)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
		}

		start := c.now()
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("openf1: %s %s: %w", method, display, ctx.Err())
			}
			if attempt >= c.maxRetries {
				return nil, fmt.Errorf("openf1: %s %s: %w (after %d attempts)", method, display, err, attempt+1)
			}
			d := c.backoff(attempt)
			c.log.Warn("openf1 request failed, retrying", "method", method, "url", display, "err", err, "wait", d)
			if err := c.sleep(ctx, d); err != nil {
				return nil, err
			}
			continue
		}
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		_ = resp.Body.Close()
		c.log.Debug("openf1 request", "method", method, "url", display, "status", resp.StatusCode,
			"bytes", len(body), "took", c.now().Sub(start))
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if readErr != nil {
				if attempt < c.maxRetries && ctx.Err() == nil {
					if err := c.sleep(ctx, c.backoff(attempt)); err != nil {
						return nil, err
					}
					continue
				}
				return nil, fmt.Errorf("openf1: %s %s: read body: %w", method, display, readErr)
			}
			return body, nil
		}

		apiErr := &APIError{Method: method, URL: display, StatusCode: resp.StatusCode, Detail: errorDetail(resp, body)}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && auth && c.HasCredentials() && !reauthed:
			// The token may have been revoked or expired early: get a new one once.
			reauthed = true
			c.dropToken()
			c.log.Warn("openf1 rejected the access token, requesting a new one", "url", display)
			attempt--
			continue
		case apiErr.Temporary() && attempt < c.maxRetries:
			d, fromHeader := c.retryAfter(resp.Header.Get("Retry-After"))
			if !fromHeader {
				d = c.backoff(attempt)
			}
			c.log.Warn("openf1 request throttled or failed, retrying", "method", method, "url", display,
				"status", resp.StatusCode, "wait", d, "attempt", attempt+1)
			if err := c.sleep(ctx, d); err != nil {
				return nil, err
			}
			continue
		}
		return nil, apiErr
	}
}

// wait blocks until the rate limiter grants a request.
func (c *Client) wait(ctx context.Context) error {
	if c.limiter == nil {
		return ctx.Err()
	}
	if d := c.limiter.reserve(c.now()); d > 0 {
		c.log.Debug("openf1 rate limit: waiting", "wait", d)
		return c.sleep(ctx, d)
	}
	return ctx.Err()
}

// backoff returns the wait before retry attempt+1: exponential from
// minBackoff, capped at maxBackoff, with jitter in its upper half.
func (c *Client) backoff(attempt int) time.Duration {
	return retry.Backoff{Initial: c.minBackoff, Max: c.maxBackoff, Jitter: 0.5}.Delay(attempt + 1)
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), capped
// at maxRetryAfter.
func (c *Client) retryAfter(h string) (time.Duration, bool) {
	d, ok := retry.ParseRetryAfter(h, c.now())
	return min(d, maxRetryAfter), ok
}

// errorDetail extracts OpenF1's {"detail": ...} or a short plain-text body.
func errorDetail(resp *http.Response, body []byte) string {
	var v struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &v) == nil && len(v.Detail) > 0 {
		var s string
		if json.Unmarshal(v.Detail, &s) == nil {
			return s
		}
		return truncate(string(v.Detail), 300)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "text/html" { // OpenF1's 500 page is a stack trace
		return ""
	}
	return truncate(strings.TrimSpace(string(body)), 300)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// displayURL is rawURL without scheme and host, for errors and logs.
func displayURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	u.User = nil
	return u.RequestURI()
}
