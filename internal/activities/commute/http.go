package commute

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/retry"
)

// defaultClient is the HTTP client of providers that are given none.
var defaultClient = &http.Client{Timeout: 20 * time.Second}

// maxBody bounds the responses read from the services.
const maxBody = 4 << 20

// get sends a GET request and returns the response status and body. Its
// errors name the service and the host, never the URL: its path and query
// carry addresses, coordinates and API keys.
func get(ctx context.Context, client *http.Client, service string, u *url.URL, userAgent string) (int, []byte, error) {
	if client == nil {
		client = defaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: build request: %w", service, redactURLError(err))
	}
	req.Header.Set("Accept", "application/json")
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: request to %s failed: %w", service, u.Host, redactURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s: read the response of %s: %w", service, u.Host, redactURLError(err))
	}
	return resp.StatusCode, body, nil
}

// redactURLError drops the URL that net/http puts in its errors.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// statusError describes an HTTP status that a service answered with. The
// body is left out: an error page may echo the request's URL.
func statusError(service string, status int) error {
	switch status {
	case http.StatusTooManyRequests:
		return fmt.Errorf("%s: rate limited (HTTP 429): slow down or use a server of your own", service)
	case http.StatusForbidden, http.StatusUnauthorized:
		return fmt.Errorf("%s: access refused (HTTP %d): check the API key or the User-Agent", service, status)
	}
	return fmt.Errorf("%s: HTTP %d %s", service, status, http.StatusText(status))
}

// baseURL parses a configured base URL, without a trailing slash.
func baseURL(service, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: base URL %q is not an http(s) URL", service, raw)
	}
	return u, nil
}

// limiter spaces requests to a service: at most one every interval.
type limiter struct {
	mu   sync.Mutex
	next time.Time
}

// wait blocks until the next request may go, or ctx ends.
func (l *limiter) wait(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(every)
	l.mu.Unlock()
	return retry.Sleep(ctx, time.Until(at))
}
