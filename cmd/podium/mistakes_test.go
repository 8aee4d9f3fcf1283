package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMistakes: each mistake a new user makes on the command line is an
// error with the exit status and a message that says what is wrong and what
// was expected.
func TestMistakes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	header := "ID salarié;Nom;Prénom;Date de naissance;BU;Date d'embauche;Salaire brut;Type de contrat;Nombre de jours de CP;Adresse du domicile;Moyen de déplacement\n"
	emptyCSV := write("empty.csv", "")
	headerOnly := write("header-only.csv", header)

	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // in stderr, in order
	}{
		{"typo in a command", []string{"topcs"}, exitUsage,
			[]string{`unknown command "topcs" for "podium"`, `did you mean "topics"?`}},
		{"typo in a subcommand", []string{"topics", "tial", "f1.results"}, exitUsage,
			[]string{`unknown command "tial" for "podium topics"`, `did you mean "tail"?`}},
		{"typo in a sub-subcommand", []string{"activities", "lake", "scna"}, exitUsage,
			[]string{`unknown command "scna" for "podium activities lake"`, `did you mean "scan"?`}},
		{"typo in a flag", []string{"f1", "standings", "--seasn", "2021"}, exitUsage,
			[]string{"unknown flag: --seasn"}},
		{"unknown topic to tail", []string{"--data-dir", data, "topics", "tail", "f1.reslts"}, exitUsage,
			[]string{`unknown topic "f1.reslts": did you mean "f1.results"?`, "known: ", "f1.penalties", "podium topics list"}},
		{"unknown topic's dead letters", []string{"--data-dir", data, "dlq", "list", "f1.result"}, exitUsage,
			[]string{`unknown topic "f1.result": did you mean "f1.results"?`}},
		{"unknown topic to replay", []string{"--data-dir", data, "dlq", "replay", "nope"}, exitUsage,
			[]string{`unknown topic "nope"`, "known: "}},
		{"unknown stage", []string{"--data-dir", data, "rebuild", "f1-result"}, exitUsage,
			[]string{`unknown stage "f1-result": did you mean "f1-results"?`, "activities-rewards"}},
		{"unknown session", []string{"--data-dir", data, "f1", "live", "--session", "lastest"}, exitUsage,
			[]string{`unknown session "lastest": did you mean "latest"?`, "OpenF1 session_key"}},
		{"unknown session to record", []string{"--data-dir", data, "f1", "record", "--session", "9472x", "--out", filepath.Join(dir, "r.ndjson")}, exitUsage,
			[]string{`unknown session "9472x"`}},
		{"empty HR file", []string{"--data-dir", data, "activities", "import-hr", emptyCSV}, exitError,
			[]string{"no employee sheet found: expected a header row with ID salarié / Employee ID"}},
		{"header-only CSV", []string{"--data-dir", data, "activities", "import-hr", headerOnly}, exitError,
			[]string{"no employee imported", "expected a header line, then one employee a line"}},
		{"empty report", []string{"--data-dir", data, "activities", "report", "--year", "2025"}, exitError,
			[]string{"no activity in 2025", "expected the activities of that year"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runPodium(t, nil, tc.args...)
			if r.code != tc.code {
				t.Errorf("podium %s: exit status %d, want %d\n%s", strings.Join(tc.args, " "), r.code, tc.code, r.stderr)
			}
			rest := r.stderr
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("podium %s: stderr lacks %q:\n%s", strings.Join(tc.args, " "), w, r.stderr)
					break
				}
				rest = rest[i+len(w):]
			}
		})
	}

	// tail never created the topic it did not know.
	r := runPodium(t, nil, "--data-dir", data, "topics", "list", "--format", "csv")
	if r.code != 0 || strings.Contains(r.stdout, "f1.reslts") || strings.Contains(r.stdout, "f1.result,") {
		t.Errorf("topics list after the typos: %+v", r)
	}
}

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	r := runPodium(t, nil, "--version")
	if r.code != 0 || r.stdout != "podium "+buildVersion().Version+"\n" {
		t.Errorf("podium --version: %+v", r)
	}
}

// TestCompletion: the shells complete values, not only commands.
func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "f1", "standings", "--season", ""}, []string{"2019", "2025"}},
		{[]string{"__complete", "f1", "race", "--season", "2023", "--round", ""}, []string{"18\tUnited States Grand Prix", "22\tAbu Dhabi Grand Prix"}},
		{[]string{"__complete", "rebuild", ""}, []string{"f1-results", "activities-rewards"}},
		{[]string{"__complete", "activities", "lake", "scan", ""}, []string{"activities.gold_employee_year"}},
		{[]string{"__complete", "topics", "ta"}, []string{"tail"}},
	} {
		r := runPodium(t, nil, tc.args...)
		for _, w := range tc.want {
			if r.code != 0 || !hasLine(r.stdout, w) {
				t.Errorf("podium %s: lacks %q: %+v", strings.Join(tc.args, " "), w, r)
			}
		}
	}
	// The scripts of the three shells (cobra's) use __complete.
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := runPodium(t, nil, "completion", sh)
		if r.code != 0 || !strings.Contains(r.stdout, "__complete") {
			t.Errorf("completion %s: %+v", sh, r)
		}
	}
}

// TestCompletionFromData: topics and employees come from the data dir.
func TestCompletionFromData(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	// Without a data dir: nothing opened, nothing created.
	env := map[string]string{"PODIUM_DATA_DIR": data}
	r := runPodium(t, env, "__complete", "topics", "tail", "")
	if _, err := os.Stat(data); err == nil {
		t.Errorf("completion created the data dir %s", data)
	}
	if r.code != 0 {
		t.Errorf("complete topics without data: %+v", r)
	}
	if r := runPodium(t, nil, "--data-dir", data, "activities", "import-hr", "../../internal/activities/hr/sample/register.csv"); r.code != 0 {
		t.Fatalf("import-hr: %+v", r)
	}
	r = runPodium(t, env, "__complete", "topics", "tail", "")
	for _, w := range []string{"f1.results\n", "f1.results.dlq\n", "sportsdata.activities.validated\n"} {
		if !hasLine(r.stdout, strings.TrimSuffix(w, "\n")) {
			t.Errorf("complete topics tail: lacks %q: %+v", w, r)
		}
	}
	r = runPodium(t, nil, "__complete", "--data-dir", data, "activities", "strava", "link", "--employee", "")
	if !strings.Contains(r.stdout, "1001\t") {
		t.Errorf("complete --employee: %+v", r)
	}
}

// hasLine reports whether a line of out is value, or value and a
// description after a tab (a completion).
func hasLine(out, value string) bool {
	for _, l := range strings.Split(out, "\n") {
		if l == value || strings.HasPrefix(l, value+"\t") {
			return true
		}
	}
	return false
}

func TestRoundedText(t *testing.T) {
	for in, want := range map[float64]string{
		4645.000000001: "4645", 9.586649109515864: "9.587", 0: "0", -0.0001: "0", 1.5: "1.5", 1756.17: "1756.17",
	} {
		if got := roundedText(in); got != want {
			t.Errorf("roundedText(%v) = %q, want %q", in, got, want)
		}
	}
}
