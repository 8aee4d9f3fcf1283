package quality

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/hr/hrtest"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// TestNonFiniteDistances sends the events Kafka Connect's JSON converter
// writes for a FLOAT64 NaN or infinity ("NaN", "Infinity", "-Infinity",
// with the converter's schema part: the cdc package's Debezium fixture
// create_nan_connect_schema.json), a number beyond float64, an absurd
// distance, a good one and one whose distance is no number. The bad
// numbers are quarantined by the shipped expectations with the rule and
// the value as text; only the undecodable event is dead-lettered.
func TestNonFiniteDistances(t *testing.T) {
	ctx := context.Background()
	b := enginetest.Open(t, enginetest.JetStream)
	s := storetest.Open(t, store.SQLite)
	reg := hrtest.Sample(t, s)
	raw, err := os.ReadFile(filepath.Join("..", "cdc", "testdata", "debezium", "create_nan_connect_schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's employee and sport are not the sample's: make them so,
	// so that the distance is the only fault.
	base := strings.NewReplacer(`"employee_id": "emp-042"`, `"employee_id": "`+reg.Employees[0].ID+`"`,
		`"sport_type": "run"`, `"sport_type": "Run"`).Replace(string(raw))
	cases := []struct {
		id, distance string
		rule, shown  string // quarantine; rule "" is forwarded, "dlq" dead-lettered
	}{
		{"nan", `"NaN"`, "distance_is_a_number", `"distance_m":"NaN"`},
		{"inf", `"Infinity"`, "distance_is_a_number", `"distance_m":"Infinity"`},
		{"-inf", `"-Infinity"`, "distance_is_a_number", `"distance_m":"-Infinity"`},
		{"overflow", `1e400`, "distance_is_a_number", `"distance_m":"Infinity"`},
		{"absurd", `50000000`, "distance_in_range", `"distance_m":50000000`},
		{"good", `10250.5`, "", ""},
		{"undecodable", `"far"`, "dlq", ""},
	}
	var msgs []*bus.Message
	for _, c := range cases {
		v := strings.Replace(base, `"distance_m": "NaN"`, `"distance_m": `+c.distance, 1)
		msgs = append(msgs, &bus.Message{Topic: activities.TopicActivities, Key: `{"id":1001}`, Value: []byte(v), ID: c.id})
	}
	if err := b.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := Processor(Config{}).Run(rctx, stream.Env{Bus: b, Store: s}); err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	defer func() { cancel(); wg.Wait() }()

	fetch := func(topic string, n int) []*bus.Message {
		t.Helper()
		c, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic, Start: bus.Earliest})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fctx, fcancel := context.WithTimeout(ctx, 30*time.Second)
		defer fcancel()
		var got []*bus.Message
		for len(got) < n {
			batch, err := c.Fetch(fctx, 10)
			if err != nil {
				t.Fatalf("fetch %s (have %d of %d): %v", topic, len(got), n, err)
			}
			got = append(got, batch...)
		}
		return got
	}
	dead := fetch(activities.TopicActivities+bus.DLQSuffix, 1)
	if r := dead[0].Headers[bus.HeaderDLQReason]; !strings.Contains(r, "distance_m") || !strings.Contains(r, "far") {
		t.Errorf("dead letter reason %q: want the column and the value", r)
	}
	if valid := fetch(activities.TopicValidated, 1); valid[0].ID != "good" {
		t.Errorf("validated topic got %s, want the good event", valid[0].ID)
	}
	deadline := time.Now().Add(30 * time.Second)
	want := map[string]string{}
	for _, c := range cases {
		if c.rule != "" && c.rule != "dlq" {
			want[c.id] = c.rule + " " + c.shown
		}
	}
	for {
		rows, err := s.DB().Query(`SELECT event_id, rule, failures FROM ` + TableQuarantine)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for rows.Next() {
			var id, rule, failures string
			if err := rows.Scan(&id, &rule, &failures); err != nil {
				t.Fatal(err)
			}
			got[id] = rule + " " + failures
		}
		rows.Close()
		if len(got) == len(want) {
			for id, w := range want {
				rule, shown, _ := strings.Cut(w, " ")
				if !strings.HasPrefix(got[id], rule+" ") || !strings.Contains(got[id], shown) {
					t.Errorf("quarantined %s: %s, want rule %s and %s", id, got[id], rule, shown)
				}
			}
			if _, ok := got["good"]; ok {
				t.Error("the good event was quarantined")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("quarantine holds %v, want %d events", got, len(want))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
