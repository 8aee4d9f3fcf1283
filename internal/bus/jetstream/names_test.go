package jetstream

import (
	"strings"
	"testing"
)

func TestEncodeName(t *testing.T) {
	for topic, want := range map[string]string{
		"f1.results":                         "PODIUM_f1_results",
		"f1.results.dlq":                     "PODIUM_f1_results_dlq",
		"sportsdata.public.sport_activities": "PODIUM_sportsdata_public_sport-_activities",
		"test.ab12cd34.basic":                "PODIUM_test_ab12cd34_basic",
		"a-b/c":                              "PODIUM_a--b-2Fc",
	} {
		if got := streamName(topic); got != want {
			t.Errorf("streamName(%q) = %q, want %q", topic, got, want)
		}
	}
}

func TestEncodeNameIsInjective(t *testing.T) {
	// Inputs that naive mappings ('.' and '_' both to '_') confuse.
	inputs := []string{"a._b", "a_.b", "a__b", "a..b", "a.-b", "a-.b", "a_-b", "a-_b", "a.5F", "a_", "a.", "a-2F", "a/", "a--b", "a-b"}
	seen := map[string]string{}
	for _, in := range inputs {
		name := encodeName("", in)
		if prev, ok := seen[name]; ok {
			t.Errorf("%q and %q both encode to %q", prev, in, name)
		}
		seen[name] = in
		if strings.ContainsAny(name, " \t\r\n.*>/\\") {
			t.Errorf("encodeName(%q) = %q holds a character JetStream refuses", in, name)
		}
	}
}

func TestEncodeNameLong(t *testing.T) {
	long := strings.Repeat("segment.", 60) + "end"
	a, b := streamName(long), streamName(long+"x")
	if len(a) > maxNameLen || len(b) > maxNameLen {
		t.Fatalf("long names %d and %d bytes, limit %d", len(a), len(b), maxNameLen)
	}
	if a == b {
		t.Fatalf("two long topics share the stream %q", a)
	}
	if !strings.Contains(a, "-h") {
		t.Errorf("long name %q carries no hash", a)
	}
	// A cut never splits a code: "--" repeated must stay whole.
	dashes := streamName(strings.Repeat("-", 200))
	if i := strings.Index(dashes, "-h"); i < 0 || (i-len(streamPrefix))%2 != 0 {
		t.Errorf("cut splits a code: %q", dashes)
	}
}

func TestValidateTopic(t *testing.T) {
	for _, ok := range []string{"f1.results", "a", "sportsdata.public.sport_activities", "x-y.z_1"} {
		if err := validateTopic(ok); err != nil {
			t.Errorf("validateTopic(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a.*", "a.>", "a b", ".a", "a.", "a..b", "a\tb"} {
		if err := validateTopic(bad); err == nil {
			t.Errorf("validateTopic(%q) accepted a bad topic", bad)
		}
	}
}

func TestVersionAtLeast(t *testing.T) {
	for v, want := range map[string]bool{
		"2.14.0": true, "2.15.2": true, "3.0.0": true, "2.9.10": false, "2.13.9": false,
		"v2.14.1": true, "2.14.0-beta.1": true, "": false, "junk": false,
	} {
		if got := versionAtLeast(v, 2, 14); got != want {
			t.Errorf("versionAtLeast(%q, 2, 14) = %v, want %v", v, got, want)
		}
	}
}

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]struct {
		host string
		port int
	}{
		"":               {"127.0.0.1", -1},
		"127.0.0.1:0":    {"127.0.0.1", -1},
		":4300":          {"127.0.0.1", 4300},
		"0.0.0.0:4301":   {"0.0.0.0", 4301},
		"[::1]:0":        {"::1", -1},
		"localhost:4302": {"localhost", 4302},
	} {
		host, port, err := listenAddr(in)
		if err != nil || host != want.host || port != want.port {
			t.Errorf("listenAddr(%q) = %q, %d, %v; want %q, %d", in, host, port, err, want.host, want.port)
		}
	}
	for _, bad := range []string{"4222", "host:port", "h:70000"} {
		if _, _, err := listenAddr(bad); err == nil {
			t.Errorf("listenAddr(%q) accepted a bad address", bad)
		}
	}
}
