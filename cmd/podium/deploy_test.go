package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1/openf1"
	"github.com/podiumhq/podium/internal/f1/openf1/openf1test"
)

// deployDir is the stack users copy to production.
const deployDir = "../../deploy"

// notFromPodium are the metrics the deploy files may name that no podium
// process serves.
var notFromPodium = map[string]string{
	// Prometheus adds it to every scrape target.
	"up": "Prometheus",
	// Served by a capture on PostgreSQL only (the WAL a replication slot
	// retains); this test's demo runs on SQLite. TestPostgresHeartbeat
	// (internal/activities/cdc) checks that the capture exposes it.
	"podium_cdc_wal_retained_bytes": "a capture on PostgreSQL",
	// Counted when a PostgreSQL capture finds its slot lost;
	// TestPostgresSlotLost checks it.
	"podium_cdc_slot_losses_total": "a capture on PostgreSQL that lost its slot",
}

// TestDeployQueriesUseExposedMetrics reads every PromQL expression of the
// Grafana dashboards and the alert rules in deploy/, and checks that each
// metric they name is one podium exposes: a `podium demo` (every pipeline
// fed) scraped at /metrics, and the OpenF1 follower of `podium f1 live`
// following a session of (a fake of) OpenF1.
func TestDeployQueriesUseExposedMetrics(t *testing.T) {
	t.Parallel()
	want := map[string][]string{} // metric → where it is named
	for where, expr := range deployExprs(t) {
		names, err := promqlMetrics(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
		}
		for _, n := range names {
			want[n] = append(want[n], where)
		}
	}
	if len(want) < 20 {
		t.Fatalf("only %d metrics named in deploy/: %v", len(want), want)
	}

	exposed := followerFamilies(t)
	p := startPodiumEnv(t, t.TempDir(), []string{"PODIUM_ACTIVITIES_DEMO_PACE=500ms", "PODIUM_F1_DEMO_INTERVAL=200ms"}, "demo")
	url := "http://" + p.owner().HTTPAddr + "/metrics"
	var missing []string
	deadline := time.Now().Add(3 * time.Minute)
	for {
		for n := range scrapeFamilies(t, url) {
			exposed[n] = true
		}
		missing = missing[:0]
		for n := range want {
			if !isExposed(n, exposed) && notFromPodium[n] == "" {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	sort.Strings(missing)
	for _, n := range missing {
		t.Errorf("metric %s (named in %s) is not exposed by podium", n, strings.Join(want[n], ", "))
	}
}

// isExposed reports whether metric n is a family of exposed, or a
// histogram's or summary's _bucket, _sum or _count series.
func isExposed(n string, exposed map[string]bool) bool {
	if exposed[n] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(n, suffix); ok && exposed[base] {
			return true
		}
	}
	return false
}

// scrapeFamilies returns the metric families url serves (their # TYPE
// lines).
func scrapeFamilies(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			out[f[2]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return out
}

// followerFamilies runs the OpenF1 follower `podium f1 live` runs on a
// session of a fake OpenF1 and returns the families it registers.
func followerFamilies(t *testing.T) map[string]bool {
	t.Helper()
	fake := openf1test.NewFake(t, openf1test.Bahrain)
	b := enginetest.Open(t, enginetest.JetStream)
	reg := prometheus.NewRegistry()
	f := &openf1.Follower{Client: openf1.New(openf1.Config{BaseURL: fake.BaseURL()}), Session: "7953", Metrics: reg, PollInterval: 10 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.Run(ctx, b); err != nil {
		t.Fatalf("follow session 7953 of the fake OpenF1: %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, mf := range mfs {
		out[mf.GetName()] = true
	}
	return out
}

// deployExprs returns every PromQL expression of deploy/: the Grafana
// dashboards' targets and the alert rules, keyed by where they are.
func deployExprs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	dashboards, _ := filepath.Glob(filepath.Join(deployDir, "grafana", "dashboards", "*.json"))
	if len(dashboards) == 0 {
		t.Fatal("no Grafana dashboard in deploy/grafana/dashboards")
	}
	for _, file := range dashboards {
		var d struct {
			Panels []struct {
				Title   string `json:"title"`
				Targets []struct {
					Expr  string `json:"expr"`
					RefID string `json:"refId"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(readFile(t, file), &d); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				out[filepath.Base(file)+": panel "+p.Title+" "+tg.RefID] = tg.Expr
			}
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(readFile(t, filepath.Join(deployDir, "prometheus", "alerts.yml")), &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out["alerts.yml: "+r.Alert] = r.Expr
		}
	}
	return out
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	// What names no metric: strings, label matchers, ranges and
	// subqueries, label lists of by/without/on/ignoring/group_x.
	promqlStrings  = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promqlMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promqlRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promqlLabels   = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	// A number or duration (skipped), or an identifier.
	promqlToken = regexp.MustCompile(`\d[0-9a-zA-Z_.]*|[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promqlWords = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
		"group_left", "group_right", "inf", "nan", "atan2"}
)

// promqlMetrics returns the metric names expr selects: the identifiers
// that are not functions, aggregations, keywords, labels or numbers.
func promqlMetrics(expr string) ([]string, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, errors.New("empty expression")
	}
	s := promqlStrings.ReplaceAllString(expr, `""`)
	s = promqlMatchers.ReplaceAllString(s, " ")
	s = promqlRanges.ReplaceAllString(s, " ")
	s = promqlLabels.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range promqlToken.FindAllStringIndex(s, -1) {
		tok := s[loc[0]:loc[1]]
		if tok[0] >= '0' && tok[0] <= '9' || slices.Contains(promqlWords, strings.ToLower(tok)) {
			continue
		}
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function or an aggregation
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out, nil
}

func TestPromQLMetrics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`histogram_quantile(0.99, sum by (processor, le) (rate(podium_batch_duration_seconds_bucket[$__rate_interval])))`,
			[]string{"podium_batch_duration_seconds_bucket"}},
		{`max by (processor, topic) (podium_consumer_lag) > 0
		  unless
		  sum by (processor, topic) (increase(podium_batch_duration_seconds_count[10m])) > 0`,
			[]string{"podium_consumer_lag", "podium_batch_duration_seconds_count"}},
		{`max by (processor) (podium_effect_calls{state="parked", processor=~"a|b"}) > 1e9`, []string{"podium_effect_calls"}},
		{`time() - max(podium_openf1_last_row_timestamp_seconds) > 120 and on () max(x_start) < time()`,
			[]string{"podium_openf1_last_row_timestamp_seconds", "x_start"}},
		{`sum(rate(a_total[5m] offset 1h)) by (job) / ignoring(code) group_left b`, []string{"a_total", "b"}},
		{`absent(up{job="podium-worker"} == 1)`, []string{"up"}},
		{`max_over_time(deriv(lag[5m])[10m:30s]) or vector(0)`, []string{"lag"}},
	} {
		got, err := promqlMetrics(tc.expr)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("promqlMetrics(%q) = %q, %v; want %q", tc.expr, got, err, tc.want)
		}
	}
	if _, err := promqlMetrics(" "); err == nil {
		t.Error("an empty expression is no error")
	}
}

// TestComposeConfig checks the stack's compose file with Docker Compose
// itself (`docker compose config`, or the standalone docker-compose) with
// the example environment. It skips, saying so, where neither is
// installed.
func TestComposeConfig(t *testing.T) {
	t.Parallel()
	file := filepath.Join(deployDir, "compose.yaml")
	env := filepath.Join(deployDir, ".env.example")
	var cmd *exec.Cmd
	if exec.Command("docker", "compose", "version").Run() == nil {
		cmd = exec.Command("docker", "compose", "-f", file, "--env-file", env, "config", "--quiet")
	} else if path, err := exec.LookPath("docker-compose"); err == nil {
		cmd = exec.Command(path, "-f", file, "--env-file", env, "config", "--quiet")
	} else {
		t.Skip("neither `docker compose` nor docker-compose is installed: deploy/compose.yaml not checked")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	// Without the secrets, compose refuses to start and says which.
	if _, err := os.Stat(filepath.Join(deployDir, ".env")); err == nil {
		return // deploy/.env has them
	}
	bare := exec.Command(cmd.Path, slices.DeleteFunc(cmd.Args[1:], func(a string) bool { return a == "--env-file" || a == env })...)
	bare.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "POSTGRES_PASSWORD=") })
	out, err = bare.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "set POSTGRES_PASSWORD in deploy/.env") {
		t.Errorf("compose without deploy/.env: %v\n%s", err, out)
	}
}
