package retry

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w*time.Millisecond {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	if got := (Backoff{}).Delay(1000); got != 30*time.Second {
		t.Errorf("zero Backoff caps at %v, want 30s", got)
	}
	j := Backoff{Initial: time.Second, Max: time.Second, Jitter: 0.5}
	for range 100 {
		if d := j.Delay(1); d <= 500*time.Millisecond || d > time.Second {
			t.Fatalf("jittered delay %v outside (0.5s, 1s]", d)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30", 30 * time.Second, true},
		{" 0 ", 0, true},
		{"Sun, 06 Dec 2026 12:00:10 GMT", 10 * time.Second, true},
		{"Sun, 06 Dec 2026 11:00:00 GMT", 0, true}, // in the past: now
		{"", 0, false},
		{"-5", 0, false},
		{"soon", 0, false},
	}
	for _, tc := range tests {
		got, ok := ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHTTPStatus(t *testing.T) {
	now := time.Now()
	tests := []struct {
		code       int
		retryAfter string
		permanent  bool
		after      time.Duration
	}{
		{403, "", true, 0},
		{404, "", true, 0},
		{410, "", true, 0},
		{400, "", true, 0},
		{401, "", true, 0},
		{429, "7", false, 7 * time.Second},
		{503, "", false, 0},
		{500, "", false, 0},
		{408, "", false, 0},
	}
	for _, tc := range tests {
		h := http.Header{}
		if tc.retryAfter != "" {
			h.Set("Retry-After", tc.retryAfter)
		}
		err := HTTPStatus(tc.code, h, []byte("invalid_token"), now)
		if err == nil {
			t.Fatalf("%d: no error", tc.code)
		}
		if IsPermanent(err) != tc.permanent {
			t.Errorf("%d: permanent = %v, want %v (%v)", tc.code, IsPermanent(err), tc.permanent, err)
		}
		d, ok := AfterOf(err)
		if ok != (tc.after > 0) || d != tc.after {
			t.Errorf("%d: after = %v, %v; want %v", tc.code, d, ok, tc.after)
		}
	}
	if err := HTTPStatus(200, nil, nil, now); err != nil {
		t.Errorf("200: %v", err)
	}
}

func TestMarksSurviveWrapping(t *testing.T) {
	base := errors.New("boom")
	p := fmt.Errorf("call: %w", Permanent(base))
	if !IsPermanent(p) || !errors.Is(p, base) {
		t.Errorf("wrapped Permanent lost: %v", p)
	}
	a := fmt.Errorf("call: %w", After(base, time.Minute))
	if d, ok := AfterOf(a); !ok || d != time.Minute || IsPermanent(a) {
		t.Errorf("wrapped After lost: %v %v", d, ok)
	}
	b := Backoff{Initial: time.Second}
	if got := b.Wait(1, a, 10*time.Second); got != 10*time.Second {
		t.Errorf("Wait with a capped Retry-After = %v, want 10s", got)
	}
	if got := b.Wait(2, base, 0); got != 2*time.Second {
		t.Errorf("Wait without Retry-After = %v, want 2s", got)
	}
	if Permanent(nil) != nil || After(nil, time.Second) != nil {
		t.Error("marking nil must stay nil")
	}
}
