package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/stream"
)

// errPermanent marks a Slack answer that sending again cannot change (400:
// Slack refused the payload itself).
var errPermanent = errors.New("slack refused the message")

// send posts msg to the webhook, retrying until Slack accepts it: network
// errors, 5xx and unexpected answers back off exponentially up to
// MaxBackoff, 429 waits for Retry-After. It gives up only when stop ends
// (the processor is stopping; the batch is rolled back and posted again
// after the restart, since Slack did not accept it) or when Slack refuses
// the payload (400), which is rejected to the dead-letter topic.
//
// A request in flight is never cancelled by stop: cancelling it after Slack
// posted the message but before its answer arrived would post it twice.
// Each attempt is bounded by the HTTP client's timeout instead.
func (h *handler) send(ctx, stop context.Context, activityID int64, msg message) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode slack message of activity %d: %w", activityID, err)
	}
	backoff := min(500*time.Millisecond, h.cfg.MaxBackoff)
	for attempt := 1; ; attempt++ {
		retryAfter, err := h.post(ctx, body)
		if err == nil {
			if attempt > 1 {
				h.log.Info("slack message sent after retries", "activity", activityID, "attempts", attempt)
			}
			return nil
		}
		if errors.Is(err, errPermanent) {
			h.log.Error("slack refused a message; it goes to the dead-letter topic", "activity", activityID, "host", h.host, "err", err)
			return stream.Reject(fmt.Errorf("activity %d: %w", activityID, err))
		}
		wait := retryAfter
		if wait <= 0 {
			wait = backoff
			backoff = min(2*backoff, h.cfg.MaxBackoff)
		}
		h.log.Warn("slack message not sent; retrying", "activity", activityID, "host", h.host, "attempt", attempt,
			"err", err, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-stop.Done():
			t.Stop()
			return fmt.Errorf("stopped before slack accepted the message of activity %d: %w", activityID, err)
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("slack message of activity %d: %w", activityID, ctx.Err())
		case <-t.C:
		}
	}
}

// post makes one attempt. retryAfter is Slack's Retry-After on a 429.
// Errors never hold the webhook URL, which is a secret.
func (h *handler) post(ctx context.Context, body []byte) (retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("invalid slack webhook URL") // the parse error quotes the URL
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := h.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL
		}
		return 0, fmt.Errorf("post to slack: %w", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("slack rate limit (429)")
	case resp.StatusCode == http.StatusBadRequest:
		return 0, fmt.Errorf("%w: %s: %s", errPermanent, resp.Status, strings.TrimSpace(string(reply)))
	}
	// 5xx, and 403/404/410 (a revoked webhook, an archived channel): the
	// message is kept until someone fixes the configuration.
	return 0, fmt.Errorf("slack answered %s: %s", resp.Status, strings.TrimSpace(string(reply)))
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date. A
// missing or unreadable one gives one second.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return max(time.Duration(n)*time.Second, time.Millisecond)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), time.Millisecond)
	}
	return time.Second
}
