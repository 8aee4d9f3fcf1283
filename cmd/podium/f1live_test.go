package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podiumhq/podium/internal/f1/openf1"
	"github.com/podiumhq/podium/internal/f1/openf1/openf1test"
)

// TestF1RecordAndReplayFile records a session from (a fake of) OpenF1 with
// `podium f1 record`, then plays the file with `podium f1 replay --file`:
// the standings have OpenF1's official points.
func TestF1RecordAndReplayFile(t *testing.T) {
	t.Parallel()
	fake := openf1test.NewFake(t, openf1test.Bahrain)
	env := map[string]string{"PODIUM_OPENF1_URL": fake.BaseURL()}
	dir := t.TempDir()
	file := filepath.Join(dir, "bahrain.ndjson")
	r := runPodium(t, env, "--data-dir", dir, "f1", "record", "--session", "7953", "--out", file)
	if r.code != 0 || !strings.Contains(r.stderr, "rows recorded in "+file) {
		t.Fatalf("f1 record: %+v", r)
	}
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := openf1.ReadRecording(fh)
	_ = fh.Close()
	if err != nil || rec.Header.SessionKey != 7953 || len(rec.Rows) < 60 {
		t.Fatalf("recording: %v, %+v rows", err, rec)
	}
	if r := runPodium(t, env, "--data-dir", dir, "f1", "record", "--session", "7953", "--out", file); r.code != 2 ||
		!strings.Contains(r.stderr, "exists: choose another --out, or add --force") {
		t.Errorf("record over a file: %+v", r)
	}

	r = runPodium(t, nil, "--data-dir", dir, "f1", "replay", "--file", file, "--speed", "0")
	if r.code != 0 || !strings.Contains(r.stderr, "recording of session 7953 applied") {
		t.Fatalf("f1 replay --file: %+v", r)
	}
	r = runPodium(t, nil, "--data-dir", dir, "f1", "standings", "--season", "2023", "--format", "csv")
	if r.code != 0 || !strings.Contains(r.stdout, "1,max-verstappen,Max Verstappen,25,1,1") ||
		!strings.Contains(r.stdout, ",alexander-albon,Alexander Albon,1,") {
		t.Errorf("standings after the replay: %+v", r)
	}
}

func TestF1LiveCommandErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.ndjson")
	if err := os.WriteFile(bad, []byte(`{"format":"podium.openf1.recording","version":9,"session_key":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"f1", "record", "--session", "1"}, 2, "--out is required"},
		{[]string{"f1", "replay", "--file", bad, "--season", "2023"}, 2, "--season replays the archive; --file replays a recording"},
		{[]string{"f1", "replay", "--season", "2023", "--speed", "10"}, 2, "--speed and --delay apply to a recording: add --file FILE"},
		{[]string{"f1", "replay", "--file", filepath.Join(dir, "missing.ndjson")}, 2, "cannot read the recording"},
		{[]string{"f1", "replay", "--file", bad}, 1, "this podium reads recordings up to version 1; upgrade podium"},
		{[]string{"f1", "live", "--delay", "-1s"}, 2, "invalid --delay"},
		{[]string{"f1", "live", "--since", "yesterday"}, 2, "invalid --since"},
	} {
		r := runPodium(t, nil, append([]string{"--data-dir", dir}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}
