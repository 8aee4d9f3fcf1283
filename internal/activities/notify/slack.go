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
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/retry"
)

// post makes one attempt to post body to the webhook and classifies
// Slack's answer (see the package documentation). Errors never hold the
// webhook URL, which is a secret.
func (h *handler) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return retry.Permanent(errors.New("invalid slack webhook URL")) // the parse error quotes the URL
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := h.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL
		}
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if err := retry.HTTPStatus(resp.StatusCode, resp.Header, reply, time.Now()); err != nil {
		return err
	}
	return refusal(reply)
}

// refusal reads a 2xx answer: incoming webhooks answer "ok", but Slack's
// Web API style answers (a workflow webhook, a proxy in front of
// chat.postMessage) say {"ok": false, "error": "channel_not_found"} with a
// 200. A rate limit said that way is transient; any other error permanent.
func refusal(reply []byte) error {
	text := bytes.TrimSpace(reply)
	if len(text) == 0 || text[0] != '{' {
		return nil
	}
	var a struct {
		OK         *bool  `json:"ok"`
		Error      string `json:"error"`
		RetryAfter int    `json:"retry_after"`
	}
	if json.Unmarshal(text, &a) != nil || a.OK == nil || *a.OK {
		return nil
	}
	err := fmt.Errorf("slack answered ok=false: %s", strings.TrimSpace(a.Error))
	if a.Error == "ratelimited" || a.Error == "rate_limited" {
		return retry.After(err, time.Duration(max(a.RetryAfter, 1))*time.Second)
	}
	return retry.Permanent(err)
}
