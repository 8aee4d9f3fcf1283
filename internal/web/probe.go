package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Probe asks url (a /healthz or /readyz of a podium) whether the process is
// alive or ready: nil for a 2xx answer, otherwise an error that carries the
// answer's lines (which engine or stage is not ready, and why) or the
// reason no answer came.
func Probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	msg := strings.TrimSpace(string(body))
	if msg == "" {
		msg = "no reason given"
	}
	return fmt.Errorf("%s answered %s:\n%s", url, resp.Status, msg)
}
