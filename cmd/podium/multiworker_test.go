package main

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
)

// TestMultiWorkerKillNine runs three `podium worker` processes (the built
// binary) on Kafka (kfake, on TCP ports) and PostgreSQL over the crash
// test's events, kills one with SIGKILL mid-stream, starts another in its
// place (the group rebalances: the session timeout drops the dead member),
// and compares what they leave with a single uninterrupted worker's: the
// SQL tables, the lake's rows and the Slack ledger must be equal.
//
// What it asserts of Slack: the ledger (one row per idempotency key
// activity/<id>, every one sent) equals the single run's, Slack got each
// of the 20 messages, and at most one message more than once per kill —
// the call the dead worker had in flight, which the ledger still had as
// pending (its lease ran out, another worker made it): a call the ledger
// had as sent is never made again.
func TestMultiWorkerKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the multi-worker crash run in -short mode")
	}
	if os.Getenv("PODIUM_TEST_POSTGRES_URL") == "" {
		t.Skip("PODIUM_TEST_POSTGRES_URL is unset: several workers share one PostgreSQL store; set it to run this test")
	}
	events := crashEvents(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill point drawn with seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	start := time.Now()
	want := crashRunPlan(t, enginetest.Kafka, store.Postgres, events, crashPlan{workers: 1})
	single := time.Since(start)
	got := crashRunPlan(t, enginetest.Kafka, store.Postgres, events, crashPlan{workers: 3, kills: 1,
		killAfter: func() time.Duration { return time.Duration(200+rng.IntN(800)) * time.Millisecond }})
	if got.midStream != got.kills {
		t.Errorf("%d of %d kills came after the workers were done: not a kill mid-stream", got.kills-got.midStream, got.kills)
	}
	for _, part := range []string{"sql", "lake", "ledger"} {
		if got.parts[part] != want.parts[part] {
			t.Errorf("three workers, one killed: %s differs from a single uninterrupted worker's:\n%s", part, firstDiff(got.parts[part], want.parts[part]))
		}
	}
	if want.resent != 0 {
		t.Errorf("the uninterrupted run made %d calls twice", want.resent)
	}
	if got.resent > got.kills || got.maxSends > 1+got.kills {
		t.Errorf("%d calls made twice (one message %d times) in %d kills: more than the one in flight at each kill", got.resent, got.maxSends, got.kills)
	}
	t.Logf("single worker %v, three workers with a kill %v; %d calls made twice", single.Round(time.Second), (time.Since(start) - single).Round(time.Second), got.resent)
}
