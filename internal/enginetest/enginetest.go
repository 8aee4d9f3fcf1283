// Package enginetest opens real bus engines for tests of the code above
// them (the processor runtime, the pipelines): embedded NATS JetStream in a
// temporary directory and Kafka through franz-go's in-process kfake cluster.
package enginetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/bus/jetstream"
	"github.com/podiumhq/podium/internal/bus/kafka"
)

// Engine names a bus engine under test.
type Engine string

// The engines every test of the layers above the bus runs on.
const (
	JetStream Engine = "jetstream"
	Kafka     Engine = "kafka"
)

// Engines lists the bus engines to test on.
func Engines() []Engine { return []Engine{JetStream, Kafka} }

// Cluster is a running engine that buses connect to, possibly from another
// process: the embedded JetStream's store directory, or the kfake brokers.
type Cluster struct {
	Engine  Engine
	Dir     string   // JetStream store directory
	Brokers []string // Kafka seed brokers
}

// Start starts an engine for this test and stops it when the test ends.
func Start(t testing.TB, e Engine) Cluster {
	t.Helper()
	switch e {
	case JetStream:
		return Cluster{Engine: e, Dir: filepath.Join(t.TempDir(), "jetstream")}
	case Kafka:
		c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.DefaultNumPartitions(3), kfake.GroupMinSessionTimeout(time.Second))
		if err != nil {
			t.Fatalf("start kfake cluster: %v", err)
		}
		t.Cleanup(c.Close)
		return Cluster{Engine: e, Brokers: c.ListenAddrs()}
	}
	t.Fatalf("unknown engine %q", e)
	return Cluster{}
}

// Open connects a bus to c. Only one embedded JetStream bus may be open on
// a directory at a time.
func (c Cluster) Open(ctx context.Context) (bus.Bus, error) {
	if c.Engine == JetStream {
		return jetstream.Open(ctx, jetstream.Config{StoreDir: c.Dir})
	}
	// Short group timeouts: a consumer killed by a crash test leaves the
	// group after 2 s instead of production's 45 s.
	return kafka.Open(ctx, kafka.Config{Brokers: c.Brokers, DefaultPartitions: 3,
		SessionTimeout: 2 * time.Second, RebalanceTimeout: 5 * time.Second, HeartbeatInterval: 200 * time.Millisecond})
}

// Open starts an engine and opens a bus on it, both closed when the test
// ends.
func Open(t testing.TB, e Engine) bus.Bus {
	t.Helper()
	b, err := Start(t, e).Open(context.Background())
	if err != nil {
		t.Fatalf("open %s bus: %v", e, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// Each runs fn once per engine as a subtest named after it.
func Each(t *testing.T, fn func(t *testing.T, e Engine)) {
	for _, e := range Engines() {
		t.Run(string(e), func(t *testing.T) { fn(t, e) })
	}
}
