package erase_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/erase"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/ingest"
	"github.com/podiumhq/podium/internal/activities/migrations"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// TestEraseStore erases one of two employees from the store's tables on
// both dialects (the bus and the lake are tested end to end in
// cmd/podium's TestPayroll): the other's rows stay, SQLite's change table
// keeps no image of the erased one, PostgreSQL's sport_activities is back
// to REPLICA IDENTITY FULL.
func TestEraseStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		s := storetest.Open(t, d)
		for _, m := range []func() error{
			func() error { return activities.Migrate(ctx, s) },
			func() error { return s.Migrate(ctx, cdc.Component, migrations.CDC()) },
			func() error { return hr.Migrate(ctx, s) },
			func() error { return ingest.Migrate(ctx, s) },
			func() error { return s.Migrate(ctx, rewards.Name, rewards.Migrations()) },
			func() error { return s.Migrate(ctx, quality.Name, quality.Migrations()) },
			func() error { return stream.Migrate(ctx, s, stream.Spec{}) },
		} {
			if err := m(); err != nil {
				t.Fatal(err)
			}
		}
		db := s.DB()
		now := time.Now().UTC()
		for i, emp := range []string{"1001", "1002"} {
			if _, err := db.Exec(`INSERT INTO hr_employees (employee_id, last_name, first_name, birth_date, business_unit, hire_date,
				gross_salary, contract_type, paid_leave_days, home_address, commute_mode, imported_at, updated_at)
				VALUES ($1, 'Name', 'First', '2000-09-03', 'Ventes', '2023-12-11', 39600, 'CDI', 25, 'somewhere', 'car', $2, $2)`, emp, now); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO hr_employee_sports (employee_id, position, sport) VALUES ($1, 1, 'Run')`, emp); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO strava_athletes (athlete_id, employee_id, access_token, refresh_token, expires_at, authorized, linked_at, updated_at)
				VALUES ($1, $2, 'a', 'r', 0, true, $3, $3)`, 5000+i, emp, now); err != nil {
				t.Fatal(err)
			}
			for j := range 3 {
				a := activities.Activity{ID: int64(100*(i+1) + j), EmployeeID: emp, StartTime: now.Add(-time.Duration(j) * time.Hour),
					SportType: "Run", DistanceM: 5000, ElapsedS: 1800, Source: activities.SourceAPI}
				if err := activities.Upsert(ctx, db, a); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec(`INSERT INTO podium_effects (stage, call_key, topic, part, src_offset, body, state, attempts, reason,
					next_try_ms, lease_ms, created_at, updated_at) VALUES ('activities-slack', $1, 't', 0, 0, 'Bravo', 'sent', 1, '', 0, 0, $2, $2)`,
					"activity/"+strconv.FormatInt(a.ID, 10), now); err != nil {
					t.Fatal(err)
				}
			}
		}
		rep, err := erase.Erase(ctx, "1001", erase.Options{Store: s})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, tr := range rep.Tables {
			got[tr.Table] = tr.Rows
		}
		for table, want := range map[string]int64{"sport_activities": 3, "hr_employees": 1, "hr_employee_sports": 1,
			"strava_athletes": 1, "podium_effects": 3} {
			if got[table] != want {
				t.Errorf("%s: %d rows deleted, want %d (report %+v)", table, got[table], want, rep.Tables)
			}
		}
		if len(rep.Activities) != 3 || len(rep.Notes) != 2 {
			t.Errorf("report: %+v", rep)
		}
		for q, want := range map[string]int{
			`SELECT COUNT(*) FROM sport_activities WHERE employee_id = '1002'`:      3,
			`SELECT COUNT(*) FROM sport_activities WHERE employee_id = '1001'`:      0,
			`SELECT COUNT(*) FROM hr_employees`:                                     1,
			`SELECT COUNT(*) FROM strava_athletes WHERE employee_id = '1002'`:       1,
			`SELECT COUNT(*) FROM podium_effects WHERE call_key LIKE 'activity/2%'`: 3,
		} {
			var n int
			if err := db.QueryRow(q).Scan(&n); err != nil || n != want {
				t.Errorf("%s: %d (%v), want %d", q, n, err, want)
			}
		}
		switch d {
		case store.SQLite:
			var n, other int
			if err := db.QueryRow(`SELECT COUNT(*) FROM sport_activities_changes WHERE before LIKE '%1001%' OR after LIKE '%1001%'`).Scan(&n); err != nil || n != 0 {
				t.Errorf("change rows naming 1001: %d (%v)", n, err)
			}
			if err := db.QueryRow(`SELECT COUNT(*) FROM sport_activities_changes WHERE after LIKE '%"1002"%'`).Scan(&other); err != nil || other != 3 {
				t.Errorf("change rows of 1002: %d (%v), want 3", other, err)
			}
		case store.Postgres:
			var ident string
			if err := db.QueryRow(`SELECT relreplident::text FROM pg_class WHERE oid = 'sport_activities'::regclass`).Scan(&ident); err != nil || ident != "f" {
				t.Errorf("sport_activities replica identity %q (%v), want f (FULL)", ident, err)
			}
		}
	})
}

// TestEraseKafka erases an employee on Kafka (kfake): the change-event
// topic made compacted by its operator, the validated topic with a 7-day
// retention. Each of the employee's keys ends with a tombstone on both,
// the other employee's messages stay, and the report says per topic that
// compaction removes the records, or that they stay 7 days and how to make
// the topic compacted.
func TestEraseKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := storetest.Open(t, store.SQLite)
	if err := activities.Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	cluster := enginetest.Start(t, enginetest.Kafka)
	b, err := cluster.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, 3, 1, map[string]*string{"cleanup.policy": kmsg.StringPtr("compact,delete")},
		activities.TopicActivities)
	if err != nil || resp.Err != nil {
		t.Fatalf("create the compacted topic: %v %v", err, resp.Err)
	}
	if err := b.EnsureTopic(ctx, bus.TopicConfig{Name: activities.TopicValidated, Partitions: 3, MaxAge: 7 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var msgs []*bus.Message
	for i, emp := range []string{"1001", "1002"} {
		for j := range 3 {
			a := activities.Activity{ID: int64(100*(i+1) + j), EmployeeID: emp, StartTime: now.Add(-time.Duration(j) * time.Hour),
				SportType: "Run", DistanceM: 5000, ElapsedS: 1800, Source: activities.SourceAPI}
			if err := activities.Upsert(ctx, s.DB(), a); err != nil {
				t.Fatal(err)
			}
			for _, topic := range []string{activities.TopicActivities, activities.TopicValidated} {
				msgs = append(msgs, &bus.Message{Topic: topic, Key: erase.Key(a.ID),
					Value: fmt.Appendf(nil, `{"after":{"id":%d,"employee_id":"%s"},"op":"c"}`, a.ID, emp)})
			}
		}
	}
	if err := b.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}

	rep, err := erase.Erase(ctx, "1001", erase.Options{Store: s, Bus: b})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Topics) != 2 {
		t.Fatalf("topics purged: %+v, want the two that exist", rep.Topics)
	}
	for _, tp := range rep.Topics {
		if tp.Tombstones != 3 {
			t.Errorf("%s: %d tombstones, want 3", tp.Topic, tp.Tombstones)
		}
		cons, err := b.Consume(ctx, bus.ConsumerConfig{Topic: tp.Topic, Start: bus.Earliest})
		if err != nil {
			t.Fatal(err)
		}
		last := map[string]*bus.Message{}
		for n := 0; n < 9; {
			ms, err := cons.Fetch(ctx, 100)
			if err != nil {
				t.Fatalf("read %s: %v", tp.Topic, err)
			}
			for _, m := range ms {
				last[m.Key] = m
			}
			n += len(ms)
		}
		_ = cons.Close()
		for id := range int64(3) {
			if m := last[erase.Key(100+id)]; m == nil || m.Value != nil {
				t.Errorf("%s: activity %d of the erased employee ends with %+v, want a tombstone", tp.Topic, 100+id, m)
			}
			if m := last[erase.Key(200+id)]; m == nil || m.Value == nil {
				t.Errorf("%s: activity %d of the other employee ends with %+v, want its message", tp.Topic, 200+id, m)
			}
		}
	}
	var out strings.Builder
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"removed at compaction (cleanup.policy=compact,delete)",
		"stay until retention, 7d (cleanup.policy=delete)",
		"note: topic " + activities.TopicValidated + ": cleanup.policy=delete: the records stay until retention drops them, after retention.ms=604800000 (7d)",
		"--entity-name " + activities.TopicValidated + " --add-config 'cleanup.policy=[compact,delete]'",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report does not say %q:\n%s", want, text)
		}
	}
}
