package cdc

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDecodeNonFinite decodes the float values JSON has no number for as
// Kafka Connect's JSON converter writes them — the strings "NaN",
// "Infinity", "-Infinity" — in an event with the converter's schema part
// (create_nan_connect_schema.json: create_connect_schema.json with the
// distance NaN), and numbers beyond float64 as infinities: data quality
// quarantines them; a string that is no number stays an error.
func TestDecodeNonFinite(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "debezium", "create_nan_connect_schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		value string
		check func(float64) bool
	}{
		{`"NaN"`, math.IsNaN},
		{`"Infinity"`, func(f float64) bool { return math.IsInf(f, 1) }},
		{`"-Infinity"`, func(f float64) bool { return math.IsInf(f, -1) }},
		{`1e400`, func(f float64) bool { return math.IsInf(f, 1) }},
		{`-1e400`, func(f float64) bool { return math.IsInf(f, -1) }},
		{`"10250.5"`, func(f float64) bool { return f == 10250.5 }}, // decimal.handling.mode=string
		{`1e-400`, func(f float64) bool { return f == 0 }},
	} {
		event := strings.Replace(string(data), `"distance_m": "NaN"`, `"distance_m": `+tc.value, 1)
		c, err := Decode([]byte(event))
		if err != nil {
			t.Errorf("distance %s: %v", tc.value, err)
			continue
		}
		if c.After == nil || !tc.check(c.After.DistanceM) || c.After.ID != 1001 || c.After.EmployeeID != "emp-042" {
			t.Errorf("distance %s: after %+v", tc.value, c.After)
		}
	}
	for _, bad := range []string{`"nan"`, `"inf"`, `"0x1p3"`, `"1_000"`, `"far"`, `""`, `"true"`, `"[1]"`, `" 1"`} {
		event := strings.Replace(string(data), `"distance_m": "NaN"`, `"distance_m": `+bad, 1)
		if _, err := Decode([]byte(event)); err == nil || !strings.Contains(err.Error(), "column distance_m") {
			t.Errorf("distance %s: error %v, want one naming the column", bad, err)
		}
	}
}

// FuzzDecode feeds the decoder arbitrary values and keys, seeded with the
// Debezium documentation's events (unwrapped rows and messages included):
// it must never panic, what it refuses it refuses without naming Go
// types, and what it accepts must be a consistent change.
//
//	go test ./internal/activities/cdc -run '^$' -fuzz FuzzDecode -fuzztime 10s
func FuzzDecode(f *testing.F) {
	for _, b := range debeziumEvents(f) {
		f.Add(b, []byte(`{"id":1001}`))
	}
	f.Add([]byte(`{"op":"c","after":{"id":1,"distance_m":"-Infinity"},"source":{}}`), []byte(`1`))
	f.Add([]byte(nil), []byte(`{"schema":{},"payload":{"id":"7"}}`))
	f.Add([]byte(`{"op":5}`), []byte(`{"prefix":"foo"}`))
	f.Add([]byte(`{"id":"1","__deleted":true}`), []byte(`{"id":1}`))
	f.Fuzz(func(t *testing.T, value, key []byte) {
		c, err := Decode(value)
		if err != nil {
			// Refused with what is wrong, never a Go type.
			if msg := err.Error(); strings.Contains(msg, "Go struct") || strings.Contains(msg, "Go value") {
				t.Fatalf("error names Go types: %q", msg)
			}
			return
		}
		Final([]Change{c}) // every consumer folds what Decode accepts
		if c.Tombstone {
			if c.After != nil || c.Before != nil {
				t.Fatalf("tombstone with a row image: %+v", c)
			}
		} else if !c.Op.valid() {
			t.Fatalf("accepted op %q", c.Op)
		}
		if (c.Op == OpCreate || c.Op == OpUpdate || c.Op == OpRead) && c.After == nil {
			t.Fatalf("%s change without an after image", c.Op)
		}
		if c.After != nil && c.ID != c.After.ID {
			t.Fatalf("id %d, after image's %d", c.ID, c.After.ID)
		}
		_, _, _ = DecodeKey(key)
	})
}

// debeziumEvents returns the events of testdata/debezium, copied from
// Debezium's documentation: the fuzz targets' seeds.
func debeziumEvents(tb testing.TB) [][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "debezium", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatal("no events in testdata/debezium")
	}
	out := make([][]byte, 0, len(files))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
