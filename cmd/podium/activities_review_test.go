package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities/ingest"
	"github.com/podiumhq/podium/internal/store"
)

func TestActivitiesReviewCLI(t *testing.T) {
	dir := t.TempDir()
	if r := podium(t, dir, "", "activities", "review", "list"); r.code != 0 || !strings.Contains(r.stdout, "nothing to show") {
		t.Errorf("list of an empty queue: %+v", r)
	}
	if r := podium(t, dir, "", "activities", "review", "list", "--status", "maybe"); r.code != 2 || !strings.Contains(r.stderr, "held, approved, rejected or all") {
		t.Errorf("list with a bad status: %+v", r)
	}
	if r := podium(t, dir, "", "activities", "review", "approve", "42"); r.code != 2 || !strings.Contains(r.stderr, "--reason") {
		t.Errorf("approve without a reason: %+v", r)
	}
	if r := podium(t, dir, "", "activities", "review", "reject", "42", "--reason", "no", "--by", "anna"); r.code != 1 ||
		!strings.Contains(r.stderr, "no held activity with that id: 42") {
		t.Errorf("reject of an unknown id: %+v", r)
	}
}

func TestStravaStatusShowsDisconnected(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := store.Open(ctx, dataDirConfig(t, dir).ResolvedStore())
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.Link(ctx, s, 134815, "1001", "refresh-token-xyz", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`UPDATE strava_athletes SET authorized = $1, disconnected_at = $2,
		disconnect_reason = 'refresh token refused: 400 Bad Request Bad Request (RefreshToken refresh_token invalid)' WHERE athlete_id = 134815`,
		false, time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	r := podium(t, dir, "", "activities", "strava", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "disconnected since 2025-06-10T12:00:00Z: refresh token refused") ||
		!strings.Contains(r.stdout, "podium activities strava link") || strings.Contains(r.stdout, "refresh-token-xyz") {
		t.Errorf("status: %+v", r)
	}
}
