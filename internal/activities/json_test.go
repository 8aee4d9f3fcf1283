package activities_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/benchjob"
)

// unmarshal is what DecodeJSON must give: encoding/json's decoding.
func unmarshal(data []byte) (activities.Activity, error) {
	var a activities.Activity
	err := json.Unmarshal(data, &a)
	return a, err
}

// checkDecodeJSON fails t when DecodeJSON or its fast path (when it
// takes data) differs from encoding/json on data; it returns whether the
// fast path took it.
func checkDecodeJSON(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	want, wantErr := unmarshal(data)
	got, err := activities.DecodeJSON(data)
	if (err == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeJSON(%q) = %+v, %v\njson.Unmarshal gives %+v, %v", data, got, err, want, wantErr)
	}
	fastA, fast := activities.DecodeJSONFast(data)
	if fast && (wantErr != nil || !reflect.DeepEqual(fastA, want)) {
		t.Fatalf("fast path of DecodeJSON(%q) = %+v\njson.Unmarshal gives %+v, %v", data, fastA, want, wantErr)
	}
	return fast
}

// decodeJSONSeeds are activities in JSON: the benchmark job's events and
// the shapes around them, for TestDecodeJSON and the fuzz target.
func decodeJSONSeeds() []string {
	sent := time.Date(2026, 12, 7, 15, 4, 5, 123456789, time.UTC)
	seeds := []string{
		string(benchjob.NewEvent(1, benchjob.DefaultSize, sent)),
		string(benchjob.NewEvent(12345, 0, sent)),
		string(benchjob.NewEvent(7, 1000, sent.In(time.FixedZone("", 2*3600)))),
	}
	full, _ := json.Marshal(activities.Activity{ID: -9, EmployeeID: "E\"1\\é", StartTime: time.Date(2025, 6, 1, 7, 30, 0, 0, time.FixedZone("CEST", 7200)),
		SportType: "Ride", DistanceM: 1e-7, ElapsedS: -3, Comment: "<b>&\u2028\n\t\x01</b>", Source: activities.SourceStrava,
		UpdatedAt: sent, MovingS: 99, Manual: true, Trainer: true, Commute: true})
	return append(seeds, string(full),
		`{}`,
		` {"id" : 1 , "sport_type":"Run"} `,
		`{"id":1,"extra":{"a":[1,2,{"b":null}],"c":"\u00e9"},"x":-0.5e+3}`,
		`{"comment":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t","employee_id":"\u0031"}`,
		`{"comment":"\ud800 lone surrogate"}`,
		"{\"comment\":\"invalid \xff utf-8\"}",
		"{\"comment\":\"valid é utf-8\"}",
		`{"distance_m":1.7976931348623157e308,"elapsed_s":-0,"moving_s":9223372036854775807}`,
		`{"distance_m":1e400}`,
		`{"distance_m":4.9e-324,"id":-9223372036854775808}`,
		`{"distance_m":2.5e-400}`,
		`{"id":9223372036854775808}`,
		`{"id":1.0}`,
		`{"id":1e3}`,
		`{"id":"1"}`,
		`{"id":null,"comment":null,"start_time":null,"manual":null}`,
		`{"id":1,"id":2}`,
		`{"ID":1}`,
		`{"Sport_Type":"Run"}`,
		`{"i\u0064":1}`,
		`{"sport_typ\u017f":"Run"}`,
		`{"manual":true,"trainer":false,"commute":1}`,
		`{"start_time":"2025-01-01T07:00:00Z"}`,
		`{"start_time":"2025-01-01T07:00:00.123456789+02:00","updated_at":"2025-06-01T00:00:00-07:00"}`,
		`{"start_time":"2025-01-01 07:00:00Z"}`,
		`{"start_time":"2025-01-01T07:00:00\u005a"}`,
		`{"start_time":"2025-13-01T07:00:00Z"}`,
		`{"start_time":1735714800}`,
		`{"source":["api"]}`,
		`{"comment":"x"} {}`,
		`{"comment":"x",}`,
		`[{"id":1}]`,
		`"id"`,
		`null`,
		`{"x":`+strings.Repeat("[", 70)+strings.Repeat("]", 70)+`}`,
	)
}

func TestDecodeJSON(t *testing.T) {
	fast := map[string]bool{}
	for _, s := range decodeJSONSeeds() {
		fast[s] = checkDecodeJSON(t, []byte(s))
	}
	// The shapes the fast path must take, or DecodeJSON is no faster.
	for _, s := range []string{string(benchjob.NewEvent(1, benchjob.DefaultSize, time.Now())), `{}`,
		`{"id":1,"extra":{"a":[1,2,{"b":null}],"c":"\u00e9"},"x":-0.5e+3}`,
		`{"comment":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t","employee_id":"\u0031"}`,
		`{"manual":true,"trainer":false,"commute":false}`} {
		if _, ok := activities.DecodeJSONFast([]byte(s)); !ok {
			t.Errorf("the fast path left %s to encoding/json", s)
		}
	}
	// And the ones it must leave (which it would decode otherwise, or
	// which are errors).
	for _, s := range []string{`{"ID":1}`, `{"id":1,"id":2}`, `{"i\u0064":1}`, `{"id":null}`, `{"id":1.0}`,
		`{"distance_m":1e400}`, `{"start_time":"2025-13-01T07:00:00Z"}`, `{"comment":"x",}`, `[{"id":1}]`} {
		if fast[s] {
			t.Errorf("the fast path decoded %s", s)
		}
	}
}

// FuzzDecodeJSON checks DecodeJSON, and its fast path wherever it takes
// the input, against json.Unmarshal on any input: the same Activity
// (reflect.DeepEqual, times' locations included) and an error exactly when
// encoding/json gives one.
//
//	go test ./internal/activities -run '^$' -fuzz '^FuzzDecodeJSON$' -fuzztime 60s
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range decodeJSONSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeJSON(t, data)
	})
}

// BenchmarkDecodeJSON compares DecodeJSON with json.Unmarshal on the
// benchmark job's event.
//
//	go test ./internal/activities -run '^$' -bench 'BenchmarkDecodeJSON' -count 5
func BenchmarkDecodeJSON(b *testing.B) {
	event := benchjob.NewEvent(12345, benchjob.DefaultSize, time.Date(2026, 12, 7, 15, 4, 5, 123456789, time.UTC))
	for _, bc := range []struct {
		name   string
		decode func([]byte) (activities.Activity, error)
	}{
		{"DecodeJSON", activities.DecodeJSON},
		{"json.Unmarshal", unmarshal},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(event)))
			for b.Loop() {
				if _, err := bc.decode(event); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
