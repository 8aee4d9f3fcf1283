package cdc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// Crash points of TestCrashRestart: the capture process kills itself
// (SIGKILL) right after the bus acknowledged a publish, before its
// position moved (PostgreSQL: before the slot's confirmed LSN; SQLite:
// before the relayed changes are deleted).
const (
	crashSnapshot = "snapshot" // at the 2nd publish of the initial snapshot
	crashStream   = "stream"   // at the 5th publish of streamed changes
)

// crashBatch is the capture's MaxBatch in the crash tests: small, for many
// publishes.
const crashBatch = 25

// TestCrashRestart kills a capture process hard in the middle of its
// snapshot or of its stream, makes changes while it is down, and starts a
// capture again: consumers, de-duplicating by event id, see every change
// exactly once and in commit order. On JetStream the topic itself holds no
// duplicate: the duplicate window dropped the re-published events. Kafka
// keeps them, and the consumers drop them.
func TestCrashRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests start processes; skipped with -short")
	}
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		enginetest.Each(t, func(t *testing.T, engine enginetest.Engine) {
			for i, point := range []string{crashSnapshot, crashStream} {
				t.Run(point, func(t *testing.T) {
					crashRestart(t, d, engine, point, uint64(10+i))
				})
			}
		})
	})
}

func crashRestart(t *testing.T, d store.Dialect, engine enginetest.Engine, point string, seed uint64) {
	e := newEnv(t, d)
	cluster := enginetest.Start(t, engine)
	if engine == enginetest.Kafka {
		// One partition: the test checks the order across rows.
		b, err := cluster.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := b.EnsureTopic(context.Background(), bus.TopicConfig{Name: activities.TopicActivities, Partitions: 1}); err != nil {
			t.Fatal(err)
		}
		_ = b.Close()
	}
	w := newWriter(t, e.st, seed)
	initial := w.initial(300)

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
	cmd.Env = append(os.Environ(),
		"PODIUM_CDC_CRASH_CHILD=1",
		"PODIUM_CDC_CRASH_POINT="+point,
		"PODIUM_CDC_CRASH_ENGINE="+string(engine),
		"PODIUM_CDC_CRASH_DIR="+cluster.Dir,
		"PODIUM_CDC_CRASH_BROKERS="+strings.Join(cluster.Brokers, ","),
		"PODIUM_CDC_CRASH_STORE="+e.url,
		"PODIUM_CDC_CRASH_NAME="+e.cfg.Name)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	if point == crashStream {
		// Changes while the child streams: it dies among them.
		e.waitReady(t, nil)
		for range 300 {
			w.tx()
		}
	}
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("the capture was not killed at %s: %v\n%s", point, err, out.String())
		}
		exited <- err
	case <-time.After(2 * time.Minute):
		t.Fatalf("the capture was not killed at %s within 2 minutes", point)
	}
	if point == crashStream {
		for range 50 { // while the capture is down
			w.tx()
		}
	}

	b, err := cluster.Open(context.Background())
	if err != nil {
		t.Fatalf("reopen the embedded engine after the crash: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	r := newReader(t, b, activities.TopicActivities)
	r.fetch(500 * time.Millisecond)
	before := len(r.msgs)
	if before == 0 {
		t.Fatalf("the killed capture published nothing")
	}

	var published int
	counted := &hooks{published: func(_ bool, n int) { published += n }}
	c := e.capture(t, e.cfg)
	switch c := c.(type) {
	case *Postgres:
		c.hooks = counted
	case *SQLite:
		c.hooks = counted
	}
	rc := run(t, c, b)
	// The snapshot is complete before more changes are made:
	// a snapshot taken again after the crash holds the rows as
	// they are when it is taken.
	r.until(len(initial), rc, 2*time.Minute)
	for range 50 {
		w.tx()
	}
	want := append(initial, w.want...)
	r.until(len(want), rc, 2*time.Minute)
	r.fetch(500 * time.Millisecond)
	if err := rc.stop(); err != nil {
		t.Fatal(err)
	}
	if diff := diffLines(lines(r.events()), want); diff != "" {
		t.Fatalf("after a crash at %s, the events differ from the changes:\n%s", point, diff)
	}
	dups := r.duplicates()
	gained := len(r.msgs) - before
	t.Logf("%d events; before the crash %d messages; after, %d published, %d stored, %d ids stored twice",
		len(want), before, published, gained, len(dups))
	switch engine {
	case enginetest.JetStream:
		if len(dups) > 0 {
			t.Errorf("the topic holds duplicates: %v", dups)
		}
		if published <= gained {
			t.Errorf("the restarted capture published %d messages, all new: the crash test did not make it deliver any again", published)
		}
	case enginetest.Kafka:
		if len(dups) == 0 {
			t.Errorf("no event was delivered twice: the crash test did not make the capture deliver any again")
		}
	}
}

// TestCrashChild is the capture process TestCrashRestart kills.
func TestCrashChild(t *testing.T) {
	if os.Getenv("PODIUM_CDC_CRASH_CHILD") != "1" {
		t.Skip("run by TestCrashRestart in a child process")
	}
	ctx := context.Background()
	cluster := enginetest.Cluster{Engine: enginetest.Engine(os.Getenv("PODIUM_CDC_CRASH_ENGINE")), Dir: os.Getenv("PODIUM_CDC_CRASH_DIR")}
	if brokers := os.Getenv("PODIUM_CDC_CRASH_BROKERS"); brokers != "" {
		cluster.Brokers = strings.Split(brokers, ",")
	}
	b, err := cluster.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	url := os.Getenv("PODIUM_CDC_CRASH_STORE")
	point := os.Getenv("PODIUM_CDC_CRASH_POINT")
	cfg := Config{Name: os.Getenv("PODIUM_CDC_CRASH_NAME"), MaxBatch: crashBatch, Logger: testLogger()}
	kill := func() {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	var snapshots, streams int
	h := &hooks{published: func(snapshot bool, _ int) {
		if snapshot {
			snapshots++
			if point == crashSnapshot && snapshots == 2 {
				kill()
			}
			return
		}
		streams++
		if point == crashStream && streams == 5 {
			kill()
		}
	}}
	var c Capture
	if strings.HasPrefix(url, "postgres") {
		cfg.URL = url
		p, err := NewPostgres(cfg)
		if err != nil {
			t.Fatal(err)
		}
		p.hooks = h
		c = p
	} else {
		st, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSQLite(st, cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.hooks = h
		c = s
	}
	err = c.Run(ctx, b)
	t.Fatalf("the capture returned without being killed: %v (%d snapshot and %d stream publishes)", err, snapshots, streams)
}

// compile-time check that both captures are Captures.
var _ = []Capture{(*Postgres)(nil), (*SQLite)(nil)}
