package main

import (
	"context"
	"strings"
	"testing"
)

func TestActivitiesStravaLink(t *testing.T) {
	const secret = "refresh-token-that-must-not-show"
	tests := []struct {
		name    string
		env     map[string]string
		stdin   string
		args    []string
		code    int
		message string // in stderr
	}{
		{"no athlete", nil, "", []string{"--employee", "E001"}, 2, "--athlete"},
		{"negative athlete", nil, "", []string{"--athlete", "-3", "--employee", "E001"}, 2, "--athlete"},
		{"athlete not a number", nil, "", []string{"--athlete", "abc", "--employee", "E001"}, 2, "invalid argument"},
		{"no employee", nil, "", []string{"--athlete", "134815"}, 2, "--employee"},
		{"no token", nil, "", []string{"--athlete", "134815", "--employee", "E001"}, 2, "PODIUM_STRAVA_REFRESH_TOKEN"},
		{"empty stdin", nil, "\n", []string{"--athlete", "134815", "--employee", "E001", "--refresh-token-stdin"}, 2, "standard input is empty"},
		{"token both ways", map[string]string{"PODIUM_STRAVA_REFRESH_TOKEN": secret}, secret, []string{"--athlete", "134815", "--employee", "E001", "--refresh-token-stdin"}, 2, "one way only"},
		{"malformed token", nil, "two words\n", []string{"--athlete", "134815", "--employee", "E001", "--refresh-token-stdin"}, 1, "malformed"},
		{"token on stdin", nil, secret + "\n", []string{"--athlete", "134815", "--employee", "E001", "--refresh-token-stdin"}, 0, "linked to employee E001"},
		{"token in env", map[string]string{"PODIUM_STRAVA_REFRESH_TOKEN": secret}, "", []string{"--athlete", "134816", "--employee", "E002"}, 0, "linked to employee E002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr lockedBuffer
			a := newApp(&stdout, &stderr, func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			a.stdin = strings.NewReader(tt.stdin)
			code := a.run(context.Background(), append([]string{"--data-dir", dir, "activities", "strava", "link"}, tt.args...))
			if code != tt.code || !strings.Contains(stderr.String(), tt.message) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), tt.code, tt.message)
			}
			if strings.Contains(stdout.String()+stderr.String(), secret) {
				t.Error("the refresh token was printed")
			}
			if tt.code != 0 {
				return
			}
			r := podium(t, dir, "", "activities", "strava", "status")
			if r.code != 0 || !strings.Contains(r.stdout, "E00") || !strings.Contains(r.stdout, "0 pending") {
				t.Errorf("status: %+v", r)
			}
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Error("strava status printed the refresh token")
			}
		})
	}
}
