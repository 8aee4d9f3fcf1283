package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/store"
)

// TestActivitiesValidate runs podium activities validate on good data
// (exit 0), on bad data (exit 1, HTML and JSON reports written) and with
// broken suites (exit 2).
func TestActivitiesValidate(t *testing.T) {
	dir := t.TempDir()
	sample := filepath.Join("..", "..", "internal", "activities", "hr", "sample", "register.xlsx")
	year := strconv.Itoa(time.Now().Year() - 1)
	for _, args := range [][]string{
		{"activities", "import-hr", sample},
		{"activities", "generate", "--year", year, "--seed", "5"},
	} {
		if r := podium(t, dir, "", args...); r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
	}
	r := podium(t, dir, "", "activities", "validate", "--year", year)
	if r.code != 0 || !strings.Contains(r.stdout, "employee_exists") || !strings.Contains(r.stdout, "expectations met") {
		t.Fatalf("validate on good data: %+v", r)
	}

	// A bad activity: an employee HR does not know.
	s, err := store.Open(context.Background(), filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := activities.Upsert(context.Background(), s.DB(), activities.Activity{ID: 42, EmployeeID: "GHOST",
		StartTime: time.Now().Add(-time.Hour), SportType: "Run", DistanceM: 5000, ElapsedS: 1500, Source: activities.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	html, js := filepath.Join(dir, "quality.html"), filepath.Join(dir, "quality.json")
	r = podium(t, dir, "", "activities", "validate", "--html", html, "--json", js)
	if r.code != 1 || !strings.Contains(r.stderr, "employee_exists") || !strings.Contains(r.stderr, html) ||
		!strings.Contains(r.stdout, "FAIL") {
		t.Fatalf("validate on bad data: %+v", r)
	}
	var rep struct {
		Success bool `json:"success"`
		Results []struct {
			Name    string `json:"name"`
			Success bool   `json:"success"`
			Failed  int    `json:"failed"`
			Samples []struct {
				Key    map[string]any `json:"key"`
				Values map[string]any `json:"values"`
			} `json:"samples"`
		} `json:"results"`
	}
	data, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("JSON report: %v", err)
	}
	found := false
	for _, res := range rep.Results {
		if res.Name == "employee_exists" {
			found = !res.Success && res.Failed == 1 && len(res.Samples) == 1 && res.Samples[0].Key["id"] == 42.0 &&
				res.Samples[0].Values["employee_id"] == "GHOST"
		}
	}
	if rep.Success || !found {
		t.Errorf("JSON report: %s", data)
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "<!DOCTYPE html>") || !strings.Contains(string(page), "GHOST") ||
		strings.Contains(string(page), "<link") || strings.Contains(string(page), "<script src") {
		t.Errorf("HTML report is not a self-contained page with the failing sample")
	}

	// Broken suites are usage errors naming the file, line and expectation.
	suite := filepath.Join(dir, "suite.yaml")
	if err := os.WriteFile(suite, []byte("expectations:\n  - name: bad_rule\n    table: sport_activities\n    row: \"row.distance_m >\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--suite", suite}, []string{"suite.yaml:4", `expectation "bad_rule"`, "CEL error"}},
		{[]string{"--suite", filepath.Join(dir, "missing.yaml")}, []string{"missing.yaml", "no such file"}},
	} {
		r := podium(t, dir, "", append([]string{"activities", "validate"}, tt.args...)...)
		if r.code != 2 {
			t.Errorf("validate %v: exit %d, want 2: %+v", tt.args, r.code, r)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("validate %v: stderr lacks %q: %s", tt.args, w, r.stderr)
			}
		}
	}
}
