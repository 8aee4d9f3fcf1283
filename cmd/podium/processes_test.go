package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus/jetstream"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/datadir"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/dashboard"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// process is a podium running as a child process (the test binary running
// main, see TestMain).
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	dir    string
	stderr *lockedBuffer
	done   chan error
}

// startPodium starts podium args on data dir dir in a child process with a
// clean environment, and waits until it serves HTTP.
func startPodium(t *testing.T, dir string, args ...string) *process {
	t.Helper()
	return startPodiumEnv(t, dir, nil, args...)
}

// startPodiumEnv is startPodium with the PODIUM_* settings of env
// ("KEY=value").
func startPodiumEnv(t *testing.T, dir string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--data-dir", dir, "--http", "127.0.0.1:0", "--log-level", "warn"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PODIUM_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Env = append(cmd.Env, runMainEnv+"=1")
	p := &process{t: t, cmd: cmd, dir: dir, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = io.Discard, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start podium: %v", err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	waitFor(t, "podium "+strings.Join(args, " ")+" to serve HTTP", func() bool {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("podium %s exited: %v\n%s", strings.Join(args, " "), err, p.stderr.String())
		default:
		}
		o, running, err := datadir.Running(dir)
		return err == nil && running && o.HTTPAddr != ""
	})
	return p
}

func (p *process) owner() datadir.Owner {
	o, _, err := datadir.Running(p.dir)
	if err != nil {
		p.t.Fatal(err)
	}
	return o
}

// kill kills the process with SIGKILL, as a crash would.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
	p.done <- nil
}

// stop sends SIGTERM and returns how long the process took to exit, and its
// exit error.
func (p *process) stop() (time.Duration, error) {
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.done:
		return time.Since(start), err
	case <-time.After(2 * time.Minute):
		_ = p.cmd.Process.Kill()
		p.t.Fatalf("podium did not stop within 2 minutes of SIGTERM:\n%s", p.stderr.String())
		return 0, nil
	}
}

// TestDashboardFollowsAnotherWorker runs a worker and a dashboard-only
// serve as two processes on Kafka (kfake) and PostgreSQL: the results the
// worker commits reach the dashboard's browsers live (through the notices
// topic) and its pages.
func TestDashboardFollowsAnotherWorker(t *testing.T) {
	pg := storetest.URL(t, store.Postgres) // skips without PostgreSQL
	cluster := enginetest.Start(t, enginetest.Kafka)
	busURL := "kafka://" + strings.Join(cluster.Brokers, ",")
	worker := startPodium(t, t.TempDir(), "--bus", busURL, "--store", pg, "worker", "--processors", "f1-results,f1-penalties")
	serve := startPodium(t, t.TempDir(), "--bus", busURL, "--store", pg, "serve", "--processors", "none")
	base := "http://" + serve.owner().HTTPAddr

	// A browser on the dashboard.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan dashboard.Event, 100)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	go func() {
		sc := bufio.NewScanner(resp.Body)
		name := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && name == dashboard.EventResults:
				var ev dashboard.Event
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev) == nil {
					events <- ev
				}
			}
		}
	}()

	// The first round of 2021 goes onto the bus, as `podium f1 replay`
	// publishes it.
	b, err := cluster.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	arc, err := archive.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := archive.Replay(ctx, b, arc, archive.ReplayOptions{Season: 2021, FromRound: 1, ToRound: 1}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev.Season != 2021 || ev.Round != 1 {
			t.Fatalf("the dashboard heard of %+v, want 2021 round 1", ev)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("no live update reached the dashboard's browser\nworker:\n%s\nserve:\n%s", worker.stderr.String(), serve.stderr.String())
	}
	// The first update may carry the round's first batch only: the page
	// shows the whole round once the worker has committed the rest.
	var page string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		page = get(t, base+"/championship?season=2021")
		if strings.Contains(page, "Hamilton") && strings.Contains(page, "Verstappen") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the championship page does not show what the worker committed:\n%s", page)
		}
	}
	for _, p := range []*process{worker, serve} {
		if _, err := p.stop(); err != nil {
			t.Errorf("podium exited with %v:\n%s", err, p.stderr.String())
		}
	}
}

// TestSIGTERMUnderLoad stops a worker with SIGTERM while it applies a
// backlog (every season of the archive, published at once): it stops
// within 10 s with the batches in hand committed, and a restart finishes
// with the standings of an uninterrupted run.
func TestSIGTERMUnderLoad(t *testing.T) {
	dir := t.TempDir()
	w := startPodium(t, dir, "worker")
	ctx := context.Background()
	b, err := ownerBus(ctx, t, dir)
	if err != nil {
		t.Fatal(err)
	}
	arc, err := archive.Load()
	if err != nil {
		t.Fatal(err)
	}
	published := 0
	for _, season := range arc.Seasons() {
		n, err := archive.Replay(ctx, b, arc, archive.ReplayOptions{Season: season}, nil)
		if err != nil {
			t.Fatal(err)
		}
		published += n
	}
	b.Close()
	took, err := w.stop()
	if err != nil {
		t.Fatalf("the worker exited with %v:\n%s", err, w.stderr.String())
	}
	t.Logf("stopped %v after SIGTERM, with %d messages published", took, published)
	if took > 10*time.Second {
		t.Errorf("the worker took %v to stop after SIGTERM, want under 10 s", took)
	}
	t.Logf("the worker had applied %d of %d results when it stopped", positionsOf(t, dir, f1.ResultsProcessor), published)
	// A restart finishes the backlog, with the tables of an uninterrupted
	// run: every season replayed in one go on another data dir.
	ref := t.TempDir()
	for _, season := range arc.Seasons() {
		if r := podium(t, ref, "", "f1", "replay", "--season", fmt.Sprint(season)); r.code != 0 {
			t.Fatalf("reference replay of %d: %+v", season, r)
		}
	}
	want := dumpF1(t, ref)
	w = startPodium(t, dir, "worker")
	var got string
	deadline := time.Now().Add(3 * time.Minute)
	for got = dumpF1(t, dir); got != want; got = dumpF1(t, dir) {
		if time.Now().After(deadline) {
			t.Fatalf("after a restart, the F1 tables differ from an uninterrupted run's:\n%s", firstDiff(got, want))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := w.stop(); err != nil {
		t.Fatalf("the worker exited with %v:\n%s", err, w.stderr.String())
	}
}

// positionsOf returns the next offset the stage recorded on its topic.
func positionsOf(t *testing.T, dir, stage string) int64 {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n sql.NullInt64
	_ = s.DB().QueryRow(`SELECT MAX(next_offset) FROM podium_positions WHERE processor = $1`, stage).Scan(&n)
	return n.Int64
}

// dumpF1 renders the F1 results and drivers' standings of the store in
// data dir dir, in a stable order.
func dumpF1(t *testing.T, dir string) string {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, table := range []string{"f1_results", "f1_driver_standings"} {
		var n int
		if s.DB().QueryRow(`SELECT COUNT(*) FROM `+table).Scan(&n) != nil {
			return "no table " + table + " yet"
		}
	}
	return dumpRows(t, s.DB(),
		`SELECT season, round, session, car_number, status, points FROM f1_results ORDER BY season, round, session, car_number`,
		`SELECT season, round, driver_id, points, wins, position FROM f1_driver_standings ORDER BY season, round, driver_id`)
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: got %q, want %q (%d and %d lines)", i+1, g[i], w[i], len(g), len(w))
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

// ownerBus connects to the embedded bus of the podium process holding
// data dir dir, with the credentials it keeps there.
func ownerBus(ctx context.Context, t testing.TB, dir string) (*jetstream.Bus, error) {
	t.Helper()
	o, running, err := datadir.Running(dir)
	if err != nil || !running {
		return nil, fmt.Errorf("no podium holds %s (%v)", dir, err)
	}
	auth, err := platform.EmbeddedAuth(dir)
	if err != nil {
		return nil, err
	}
	return jetstream.Open(ctx, jetstream.Config{URL: o.NATSURL, Auth: auth})
}
