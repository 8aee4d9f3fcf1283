package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestActivitiesImportAndCommute(t *testing.T) {
	dir := t.TempDir()
	sample := filepath.Join("..", "..", "internal", "activities", "hr", "sample")
	r := podium(t, dir, "", "activities", "import-hr", filepath.Join(sample, "register.csv"), "--sports", filepath.Join(sample, "sports.csv"))
	if r.code != 0 || !strings.Contains(r.stderr, "160 employees kept, 0 rows rejected") || !strings.Contains(r.stderr, "160 employees added") {
		t.Fatalf("import-hr of the sample CSV: %+v", r)
	}
	// The workbook holds the same employees: all updated in place.
	r = podium(t, dir, "", "activities", "import-hr", filepath.Join(sample, "register.xlsx"))
	if r.code != 0 || !strings.Contains(r.stderr, "0 employees added, 160 updated") {
		t.Fatalf("re-import from the workbook: %+v", r)
	}

	// A broken row is reported with its place; --strict turns it into a failure.
	data, err := os.ReadFile(filepath.Join(sample, "register.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\r\n")
	fields := strings.Split(lines[2], ";")
	fields[0] = "" // row 3 loses its employee id
	lines[2] = strings.Join(fields, ";")
	broken := filepath.Join(t.TempDir(), "broken.csv")
	if err := os.WriteFile(broken, []byte(strings.Join(lines, "\r\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	r = podium(t, dir, "", "activities", "import-hr", broken, "--strict")
	if r.code != 1 || !strings.Contains(r.stderr, "rejected: broken.csv, row 3") || !strings.Contains(r.stderr, "159 employees kept, 1 rows rejected") {
		t.Fatalf("import-hr of a broken file: %+v", r)
	}
	if strings.Contains(r.stderr+r.stdout, fields[9]) && fields[9] != "" {
		t.Fatalf("the import printed a home address: %q", fields[9])
	}

	r = podium(t, dir, "", "activities", "commute")
	if r.code != 0 || !strings.Contains(r.stderr, "160 employees") || !strings.Contains(r.stderr, "to review by HR") {
		t.Fatalf("commute: %+v", r)
	}
	r = podium(t, dir, "", "activities", "commute", "--commute-router", "teleport")
	if r.code == 0 || !strings.Contains(r.stderr, "teleport") {
		t.Fatalf("commute with an unknown router: %+v", r)
	}
	r = podium(t, dir, "", "activities", "import-hr", filepath.Join(dir, "missing.xlsx"))
	if r.code != 1 || !strings.Contains(r.stderr, "missing.xlsx") {
		t.Fatalf("import of a missing file: %+v", r)
	}
}

func TestActivitiesGenerate(t *testing.T) {
	dir := t.TempDir()
	r := podium(t, dir, "", "activities", "generate", "--year", "2025")
	if r.code != 1 || !strings.Contains(r.stderr, "import it first") {
		t.Fatalf("generate without a register: %+v", r)
	}
	sample := filepath.Join("..", "..", "internal", "activities", "hr", "sample", "register.xlsx")
	if r = podium(t, dir, "", "activities", "import-hr", sample); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	r = podium(t, dir, "", "activities", "generate", "--year", "2025", "--seed", "7")
	if r.code != 0 || !strings.Contains(r.stderr, "activities of 160 employees in 2025 written") {
		t.Fatalf("generate: %+v", r)
	}
	r = podium(t, dir, "", "activities", "generate", "--tz", "Mars/Olympus")
	if r.code != 2 || !strings.Contains(r.stderr, "unknown time zone") {
		t.Fatalf("generate with a bad time zone: %+v", r)
	}
}
