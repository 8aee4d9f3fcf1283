package config

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"168h", 168 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"1h30m", 90 * time.Minute, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{" 2d ", 48 * time.Hour, false},
		{"0", 0, false},
		{"0d", 0, false},
		{"", 0, true},
		{"d", 0, true},
		{"1.5d", 0, true},
		{"7days", 0, true},
		{"-1h", 0, true},
		{"-2d", 0, true},
		{"1w", 0, true},
		{"99999999999d", 0, true},
		{"10", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"0", 0, false},
		{"1073741824", 1 << 30, false},
		{"1GiB", 1 << 30, false},
		{"512MiB", 512 << 20, false},
		{"512mib", 512 << 20, false},
		{"1GB", 1_000_000_000, false},
		{"1gb", 1_000_000_000, false},
		{"1 GB", 1_000_000_000, false},
		{"10k", 10_000, false},
		{"10KiB", 10 << 10, false},
		{"1.5GiB", 3 << 29, false},
		{"2TiB", 2 << 40, false},
		{"100B", 100, false},
		{"", 0, true},
		{"GiB", 0, true},
		{"-1GiB", 0, true},
		{"1 potato", 0, true},
		{"1.2.3MB", 0, true},
		{"9999999999TiB", 0, true},
		{"99999999999999999999", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseBytes(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 1 << 30: "1GiB", 1536: "1536", 3 << 20: "3MiB", 1000: "1000"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "0s", 48 * time.Hour: "2d", 36 * time.Hour: "36h0m0s"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestExtensionSchema shows how a pipeline declares its own section: the
// precedence, kinds, local flags, sources and masking come for free.
func TestExtensionSchema(t *testing.T) {
	s := NewSchema(
		Setting{Key: "f1.poll_interval", Flag: "f1-poll-interval", Default: "5s", Kind: KindDuration, Usage: "poll interval"},
		Setting{Key: "f1.replay", Flag: "f1-replay", Kind: KindBool, Usage: "replay a past session"},
		Setting{Key: "f1.session", Flag: "f1-session", Default: "9999", Kind: KindInt, LocalFlag: true, Usage: "session key"},
		Setting{Key: "f1.api_key", Secret: true, Usage: "API key"},
		Setting{Key: "f1.feed", Default: "live", Allowed: []string{"live", "archive"}},
	)
	global := pflag.NewFlagSet("root", pflag.ContinueOnError)
	s.AddFlags(global)
	for _, name := range []string{"config", "f1-poll-interval", "f1-replay"} {
		if global.Lookup(name) == nil {
			t.Errorf("AddFlags did not add --%s", name)
		}
	}
	if global.Lookup("f1-session") != nil {
		t.Error("AddFlags added the local flag --f1-session")
	}
	if u := global.Lookup("f1-poll-interval").Usage; u != "poll interval (env PODIUM_F1_POLL_INTERVAL)" {
		t.Errorf("usage = %q", u)
	}

	cmd := pflag.NewFlagSet("f1", pflag.ContinueOnError)
	s.AddFlags(cmd)
	s.AddSettingFlags(cmd, "f1.session")
	file := writeFile(t, "f1:\n  poll_interval: 1m\n  api_key: k-secret\n  feed: ARCHIVE\n")
	if err := cmd.Parse([]string{"--config", file, "--f1-replay", "--f1-session", "42"}); err != nil {
		t.Fatal(err)
	}
	vs, err := s.Resolve(cmd, env(map[string]string{"PODIUM_F1_POLL_INTERVAL": "2m"}))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key    string
		got    any
		want   any
		source Source
	}{
		{"f1.poll_interval", vs.Get("f1.poll_interval").Duration(), 2 * time.Minute, SourceEnv},
		{"f1.replay", vs.Get("f1.replay").Bool(), true, SourceFlag},
		{"f1.session", vs.Get("f1.session").Int(), int64(42), SourceFlag},
		{"f1.api_key", vs.Get("f1.api_key").String(), "k-secret", SourceFile},
		{"f1.feed", vs.Get("f1.feed").String(), "archive", SourceFile},
	}
	for _, c := range checks {
		if c.got != c.want || vs.Get(c.key).Source != c.source {
			t.Errorf("%s = %v from %s, want %v from %s", c.key, c.got, vs.Get(c.key).Source, c.want, c.source)
		}
	}
	if out := vs.Masked().String(); strings.Contains(out, "k-secret") || !strings.Contains(out, "f1:\n") {
		t.Errorf("masked:\n%s", out)
	}
	if _, err := s.Resolve(nil, env(map[string]string{"PODIUM_F1_SESSION": "x"})); err == nil ||
		!strings.Contains(err.Error(), `invalid PODIUM_F1_SESSION "x": use a whole number`) {
		t.Errorf("bad int: %v", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	tests := []struct {
		name string
		s    []Setting
	}{
		{"bad key", []Setting{{Key: "Bad-Key"}}},
		{"duplicate key", []Setting{{Key: "a"}, {Key: "a", Env: "X"}}},
		{"key is a section", []Setting{{Key: "a"}, {Key: "a.b"}}},
		{"duplicate flag", []Setting{{Key: "a", Flag: "x"}, {Key: "b", Flag: "x"}}},
		{"duplicate env", []Setting{{Key: "a", Env: "X"}, {Key: "b", Env: "X"}}},
		{"derived env clash", []Setting{{Key: "a_b"}, {Key: "a.b"}}},
		{"secret flag", []Setting{{Key: "a", Flag: "a", Secret: true}}},
		{"bad default", []Setting{{Key: "a", Kind: KindDuration, Default: "soon"}}},
		{"config flag", []Setting{{Key: "a", Flag: "config"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			NewSchema(tt.s...)
		})
	}
}

// registerOnce keeps TestRegisterIntoLoad repeatable (go test -count=N):
// the package schema outlives a test.
var registerOnce sync.Once

func TestRegisterIntoLoad(t *testing.T) {
	registerOnce.Do(func() {
		Register(Setting{Key: "testonly.limit", Flag: "testonly-limit", Default: "3", Kind: KindInt, LocalFlag: true})
	})
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	AddFlags(fs)
	AddSettingFlags(fs, "testonly.limit")
	if err := fs.Parse([]string{"--testonly-limit", "7"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Get("testonly.limit"); got.Int() != 7 || got.Source != SourceFlag {
		t.Errorf("testonly.limit = %d from %s, want 7 from flag", got.Int(), got.Source)
	}
	// Without the flag on the flag set, the value comes from elsewhere.
	c, err = Load(nil, env(map[string]string{"PODIUM_TESTONLY_LIMIT": "9"}))
	if err != nil || c.Get("testonly.limit").Int() != 9 {
		t.Errorf("testonly.limit from env = %v, %v", c.Get("testonly.limit"), err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Get of an unknown key did not panic")
			}
		}()
		c.Get("no.such.key")
	}()
}
