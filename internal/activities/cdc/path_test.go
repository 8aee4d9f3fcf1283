package cdc_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/generate"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/activities/notify"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// TestWholePath: table writes → podium's capture → the raw topic → every
// stage (quality, rewards, Slack, lakehouse) → their tables, on SQLite and
// PostgreSQL. Deletes bring their tombstones and, on PostgreSQL,
// pg_logical_emit_message brings op "m" events: every stage skips both —
// none is dead-lettered, quarantined or applied — and the tables end equal
// to the source.
func TestWholePath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		url := storetest.URL(t, d)
		if d == store.Postgres && !logical(t, url) {
			t.Skipf("the PostgreSQL server of %s has no wal_level=logical", storetest.PostgresEnv)
		}
		st, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if _, err := hr.ImportSample(ctx, st); err != nil {
			t.Fatal(err)
		}
		if err := activities.Migrate(ctx, st); err != nil {
			t.Fatal(err)
		}
		b := enginetest.Open(t, enginetest.JetStream)
		var r [5]byte
		_, _ = rand.Read(r[:])
		cfg := cdc.Config{Name: "p" + hex.EncodeToString(r[:]), Logger: slog.New(slog.DiscardHandler), HeartbeatInterval: 100 * time.Millisecond}
		if d == store.Postgres {
			cfg.URL = url
			t.Cleanup(func() {
				p, err := cdc.NewPostgres(cfg)
				if err == nil {
					err = p.Drop(context.Background())
				}
				if err != nil {
					t.Errorf("drop the slot: %v", err)
				}
			})
		}
		capture, err := cdc.New(st, cfg)
		if err != nil {
			t.Fatal(err)
		}
		policy := rewards.DefaultPolicy()
		wh := t.TempDir()
		stages := []stream.Runnable{
			quality.Processor(quality.Config{}),
			rewards.Processor(policy, nil),
			notify.Stage(notify.Config{Out: io.Discard, LiveWindow: 100 * 365 * 24 * time.Hour}),
			lake.Runnable(lake.Config{Lake: lakehouse.Config{Warehouse: wh}, Policy: policy, CommitInterval: 20 * time.Millisecond}),
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{}, 2)
		go func() { cdc.Supervise(runCtx, capture, b, slog.New(slog.DiscardHandler)); done <- struct{}{} }()
		go func() { stream.Supervise(runCtx, stream.Env{Bus: b, Store: st}, stages); done <- struct{}{} }()
		t.Cleanup(func() { cancel(); <-done; <-done })

		// Changes from now on are streamed, not read by the snapshot.
		stateKey := map[store.Dialect]string{store.Postgres: cfg.Slot(), store.SQLite: cfg.Name}[d]
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			var state string
			err := st.DB().QueryRowContext(ctx, `SELECT snapshot FROM podium_cdc_state WHERE name = $1`, stateKey).Scan(&state)
			if err == nil && state == "done" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the capture is not ready after a minute (%q, %v)", state, err)
			}
		}

		// Activities the expectations pass: the sample register's employees.
		reg, err := hr.Load(ctx, st.DB())
		if err != nil {
			t.Fatal(err)
		}
		var emps []generate.Employee
		for _, e := range reg.Employees[:5] {
			emps = append(emps, generate.Employee{ID: e.ID, Sports: e.Sports})
		}
		acts, err := generate.Year(emps, generate.Config{Year: 2025, Seed: 3, Location: time.UTC})
		if err != nil {
			t.Fatal(err)
		}
		acts = acts[:12]
		if err := activities.Upsert(ctx, st.DB(), acts[:6]...); err != nil {
			t.Fatal(err)
		}
		if d == store.Postgres {
			for _, q := range []string{`SELECT pg_logical_emit_message(true, 'outbox', 'order 1')`, `SELECT pg_logical_emit_message(false, 'audit', 'x')`} {
				if _, err := st.DB().ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := activities.Upsert(ctx, st.DB(), acts[6:]...); err != nil {
			t.Fatal(err)
		}
		upd := acts[2]
		upd.DistanceM += 1000
		if err := activities.Upsert(ctx, st.DB(), upd); err != nil {
			t.Fatal(err)
		}
		if err := activities.Delete(ctx, st.DB(), acts[0].ID, acts[7].ID); err != nil {
			t.Fatal(err)
		}
		if d == store.Postgres {
			if _, err := st.DB().ExecContext(ctx, `SELECT pg_logical_emit_message(false, 'audit', 'y')`); err != nil {
				t.Fatal(err)
			}
		}

		want := ids(t, st, `SELECT id FROM sport_activities`)
		specs := make([]stream.Spec, len(stages))
		for i, s := range stages {
			specs[i] = s.Spec()
		}
		deadline := time.Now().Add(3 * time.Minute)
		for {
			lags, err := stream.Lags(ctx, b, st.DB(), specs)
			settled := err == nil && len(lags) >= len(stages)
			for _, l := range lags {
				settled = settled && l.Lag == 0
			}
			if settled && equal(ids(t, st, `SELECT id FROM activities_current`), want) && equal(silver(st, wh), want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the stages did not settle: lags %+v (%v); current %v, lake silver %v, source %v",
					lags, err, ids(t, st, `SELECT id FROM activities_current`), silver(st, wh), want)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Nothing dead-lettered or quarantined.
		for _, topic := range []string{activities.TopicActivities, activities.TopicValidated} {
			if n := count(t, b, bus.DLQTopic(topic)); n != 0 {
				t.Errorf("%d dead letters on %s", n, bus.DLQTopic(topic))
			}
		}
		if q := ids(t, st, `SELECT activity_id FROM `+quality.TableQuarantine); len(q) != 0 {
			t.Errorf("quarantined: %v", q)
		}
		// The tombstones and messages went through, and were forwarded.
		var tombstones, messages int
		validated := read(t, b, activities.TopicValidated)
		t.Logf("validated topic: %d messages, raw topic: %d", len(validated), len(read(t, b, activities.TopicActivities)))
		for _, m := range validated {
			c, err := cdc.DecodeMessage(m)
			if err != nil {
				t.Fatalf("validated topic: %v", err)
			}
			if c.Tombstone {
				tombstones++
			}
			if c.Op == cdc.OpMessage {
				messages++
			}
		}
		wantMessages := map[store.Dialect]int{store.Postgres: 3, store.SQLite: 0}[d]
		if tombstones != 2 || messages != wantMessages {
			t.Errorf("validated topic: %d tombstones, %d op m events; want 2 and %d", tombstones, messages, wantMessages)
		}
	})
}

func logical(t *testing.T, url string) bool {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var level string
	if err := conn.QueryRow(context.Background(), `SHOW wal_level`).Scan(&level); err != nil {
		t.Fatal(err)
	}
	return level == "logical"
}

func ids(t *testing.T, st *store.Store, q string) map[int64]bool {
	t.Helper()
	rows, err := st.DB().Query(q)
	if err != nil {
		return nil // not created yet
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	return out
}

func equal(a, b map[int64]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for id := range a {
		if !b[id] {
			return false
		}
	}
	return true
}

// silver reads the ids of the lakehouse's silver table.
func silver(st *store.Store, wh string) map[int64]bool {
	l, err := lakehouse.Open(context.Background(), st.DB(), lakehouse.Dialect(st.Dialect()), lakehouse.Config{Warehouse: wh})
	if err != nil {
		return nil
	}
	defer l.Close()
	tbl, err := l.Table(context.Background(), lake.TableSilver)
	if err != nil {
		return nil
	}
	rows, err := tbl.Scan(context.Background(), lakehouse.ScanOptions{})
	if err != nil {
		return nil
	}
	out := map[int64]bool{}
	for _, r := range rows {
		out[r[0].(int64)] = true
	}
	return out
}

func read(t *testing.T, b bus.Bus, topic string) []*bus.Message {
	t.Helper()
	c, err := b.Consume(context.Background(), bus.ConsumerConfig{Topic: topic, Start: bus.Earliest})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []*bus.Message
	for empty := 0; empty < 3; {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		msgs, _ := c.Fetch(ctx, 1000)
		cancel()
		out = append(out, msgs...)
		if len(msgs) == 0 {
			empty++ // a loaded machine may answer late: three quiet fetches end it
		} else {
			empty = 0
		}
	}
	return out
}

func count(t *testing.T, b bus.Bus, topic string) int { return len(read(t, b, topic)) }
