package notify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// BenchmarkSlackStage measures the effect stage's throughput: b.N live
// activities on the validated topic, each planned in the ledger and posted
// to a fast local webhook (it answers "ok" at once), from the first fetch
// to the last call marked sent. Run:
//
//	go test ./internal/activities/notify/ -run '^$' -bench SlackStage -benchtime 5000x
func BenchmarkSlackStage(b *testing.B) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			f := newFixture(b, d)
			var posted atomic.Int64
			slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				posted.Add(1)
				_, _ = io.WriteString(w, "ok")
			}))
			defer slack.Close()
			msgs := make([]*bus.Message, b.N)
			for i := range msgs {
				msgs[i] = f.event(b, cdc.OpCreate, activity(int64(i+1), time.Minute))
			}
			for i := 0; i < len(msgs); i += 1000 {
				f.publish(b, msgs[i:min(i+1000, len(msgs))]...)
			}
			cfg := f.config(nil)
			cfg.WebhookURL = slack.URL + secretPath
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			b.ResetTimer()
			go func() { done <- Stage(cfg).Run(ctx, stream.Env{Bus: f.bus, Store: f.store}) }()
			for sent := 0; sent < b.N; time.Sleep(5 * time.Millisecond) {
				_ = f.store.DB().QueryRow(`SELECT COUNT(*) FROM podium_effects WHERE state = 'sent'`).Scan(&sent)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			if n := posted.Load(); n != int64(b.N) {
				b.Fatalf("Slack got %d messages, want %d", n, b.N)
			}
		})
	}
}
