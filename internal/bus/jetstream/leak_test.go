package jetstream

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
)

// TestCloseStopsGoroutines checks that a bus, its embedded server and its
// consumers leave no goroutine behind, even with consumers left open.
func TestCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	b := openEmbedded(t, t.TempDir())
	if err := b.Publish(testCtx(t), messages("f1.results", 2000)...); err != nil {
		t.Fatal(err)
	}
	grouped, err := b.Consume(testCtx(t), bus.ConsumerConfig{Topic: "f1.results", Group: "g"})
	if err != nil {
		t.Fatal(err)
	}
	fetchN(t, grouped, 10)
	// A reader whose buffer fills up, left open: Close must end it too.
	if _, err := b.Consume(testCtx(t), bus.ConsumerConfig{Topic: "f1.results"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := grouped.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var ours []string
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "nats") || strings.Contains(g, "podium") {
				ours = append(ours, g)
			}
		}
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, strings.Join(ours, "\n\n"))
	}
}
