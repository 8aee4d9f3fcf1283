package jetstream

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/tcpproxy"
)

// TestGroupThroughLostConnections: a group reads a topic through a
// connection that is cut several times (and refused for a while once)
// while messages flow. Whatever was in flight when the connection
// dropped, the reader — which, like the processor runtime, opens its
// consumer again after a failed Fetch, from the next offset it has not
// handled — sees every offset in order: never a gap, which the runtime
// would take for handled.
func TestGroupThroughLostConnections(t *testing.T) {
	server := openEmbedded(t, t.TempDir())
	defer server.Close()
	proxy := tcpproxy.New(t, strings.TrimPrefix(server.ClientURL(), "nats://"))
	client := openURL(t, "nats://"+proxy.Addr())
	defer client.Close()
	const topic, n, outages = "test.outage", 4000, 6
	if err := server.EnsureTopic(testCtx(t), bus.TopicConfig{Name: topic}); err != nil {
		t.Fatal(err)
	}
	var (
		next   atomic.Int64 // the reader's next offset
		cut    atomic.Int32 // outages so far
		wg     sync.WaitGroup
		stopWG sync.WaitGroup
		stop   = make(chan struct{})
		once   sync.Once
	)
	next.Store(1)
	halt := func() {
		once.Do(func() { close(stop) })
		stopWG.Wait()
	}
	defer wg.Wait() // after cancel, even when the test fails
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	defer halt()
	wg.Go(func() { // a steady flow
		for i := 0; i < n; i += 10 {
			msgs := make([]*bus.Message, 10)
			for j := range msgs {
				msgs[j] = &bus.Message{Topic: topic, Key: "k", Value: fmt.Appendf(nil, "m%d", i+j+1)}
			}
			if err := server.Publish(ctx, msgs...); err != nil {
				t.Errorf("publish: %v", err)
				return
			}
			// Until the outages are over, keep a few hundred messages
			// ahead of the reader, so that some are in flight at each
			// cut, and no more than 500 per outage so far, so that a fast
			// reader cannot read all n before the last outage.
			for cut.Load() < outages && (int64(i) > next.Load()+300 || i >= int(cut.Load()+1)*500) && ctx.Err() == nil {
				time.Sleep(5 * time.Millisecond)
			}
		}
	})
	stopWG.Go(func() { // the outages, each once the reader made progress
		from := next.Load()
		for cut.Load() < outages {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if next.Load() < from+150 {
				continue
			}
			if cut.Add(1) != outages/2 {
				proxy.Cut()
				from = next.Load()
				continue
			}
			if err := proxy.Set(tcpproxy.Refuse); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Second)
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			if err := client.Ping(pctx); err == nil {
				t.Errorf("Ping answered nil while the server was unreachable")
			} else {
				t.Logf("Ping while refused: %v", err)
			}
			pcancel()
			if err := proxy.Set(tcpproxy.Forward); err != nil {
				t.Error(err)
				return
			}
			from = next.Load()
		}
	})

	resume := func(context.Context, int32) (int64, bool, error) { return next.Load(), true, nil }
	reopens := 0
	for next.Load() <= n {
		c, err := client.Consume(ctx, bus.ConsumerConfig{Topic: topic, Group: "g", Resume: resume})
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("timed out at offset %d of %d", next.Load(), n)
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for next.Load() <= n {
			msgs, err := c.Fetch(ctx, 100)
			if err != nil {
				break
			}
			for _, m := range msgs {
				switch at := next.Load(); {
				case m.Offset < at: // delivered again: skipped
				case m.Offset > at:
					t.Fatalf("gap: offset %d came after %d; offsets %d to %d were lost", m.Offset, at-1, at, m.Offset-1)
				default:
					if want := fmt.Sprintf("m%d", at); string(m.Value) != want {
						t.Fatalf("offset %d holds %q, want %q", at, m.Value, want)
					}
					next.Add(1)
				}
			}
			// As the runtime does: a failed commit only logs, and the
			// ack of a lost connection waits for JetStream's default
			// timeout.
			cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
			_ = c.Commit(cctx, bus.LastPositions(msgs)...)
			ccancel()
		}
		_ = c.Close()
		if next.Load() <= n {
			if ctx.Err() != nil {
				t.Fatalf("timed out at offset %d of %d", next.Load(), n)
			}
			reopens++
		}
	}
	halt()
	t.Logf("read %d messages through %d outages; the consumer was opened again %d times", n, cut.Load(), reopens)
	if cut.Load() < outages {
		t.Errorf("only %d of %d outages happened while messages flowed", cut.Load(), outages)
	}
	if err := proxy.Set(tcpproxy.Forward); err != nil {
		t.Fatal(err)
	}
	for client.Ping(ctx) != nil {
		if ctx.Err() != nil {
			t.Fatal("Ping does not answer after the server came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
