package jetstream

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/bus/bustest"
)

var suiteOptions = bustest.Options{DedupByID: true, Partitions: 1}

// openEmbedded opens a bus on a fresh embedded server storing in dir.
func openEmbedded(t testing.TB, dir string) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, Config{StoreDir: dir})
	if err != nil {
		t.Fatalf("open embedded bus: %v", err)
	}
	return b
}

// openURL opens a bus on the NATS server at url.
func openURL(t testing.TB, url string) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, Config{URL: url})
	if err != nil {
		t.Fatalf("open bus on %s: %v", url, err)
	}
	return b
}

func TestConformanceEmbedded(t *testing.T) {
	bustest.Run(t, func(t *testing.T) bus.Bus {
		return openEmbedded(t, t.TempDir())
	}, suiteOptions)
}

func TestConformanceExternal(t *testing.T) {
	url := os.Getenv("PODIUM_TEST_NATS_URL")
	if url == "" {
		t.Skip("PODIUM_TEST_NATS_URL is not set: skipping the external NATS suite (e.g. PODIUM_TEST_NATS_URL=nats://127.0.0.1:4222)")
	}
	bustest.Run(t, func(t *testing.T) bus.Bus { return openURL(t, url) }, suiteOptions)
}
