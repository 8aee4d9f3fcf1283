package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLimited(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &Limited{Interval: 10 * time.Second, Now: func() time.Time { return now }}
	// 1,000 wrong tokens in 30 s: one line at once, then one per 10 s
	// counting what happened since (the last 331 wait for the next line).
	for i := range 1000 {
		now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 30 * time.Millisecond)
		l.Log(context.Background(), log, slog.LevelWarn, "wrong token", "remote", "10.0.0.1:1234")
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`level=WARN msg="wrong token" remote=10.0.0.1:1234 count=1 per=10s`,
		`level=WARN msg="wrong token" remote=10.0.0.1:1234 count=334 per=10s`,
		`level=WARN msg="wrong token" remote=10.0.0.1:1234 count=334 per=10s`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("logged\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
