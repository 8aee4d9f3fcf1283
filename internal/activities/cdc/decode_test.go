package cdc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/bus"
)

// fixture is the row most fixtures of testdata/debezium hold.
var fixture = activities.Activity{ID: 1001, EmployeeID: "emp-042", StartTime: time.Date(2024, 5, 1, 7, 30, 0, 0, time.UTC),
	SportType: "run", DistanceM: 10250.5, ElapsedS: 3600, Comment: "tempo run", Source: activities.SourceStrava,
	UpdatedAt: time.Date(2024, 5, 1, 8, 35, 12, 345678000, time.UTC)}

// fixtureUpdated is fixture after the update of update_full.json.
var fixtureUpdated = func() activities.Activity {
	a := fixture
	a.DistanceM, a.Comment, a.UpdatedAt = 10400, "tempo run (GPS fixed)", time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	return a
}()

// activityString formats an activity for comparisons; nil is "-".
func activityString(a *activities.Activity) string {
	if a == nil {
		return "-"
	}
	return fmt.Sprintf("%d|%s|%s|%s|%g|%d|%q|%s|%s", a.ID, a.EmployeeID, a.StartTime.UTC().Format(time.RFC3339Nano),
		a.SportType, a.DistanceM, a.ElapsedS, a.Comment, a.Source, a.UpdatedAt.UTC().Format(time.RFC3339Nano))
}

func ptr[T any](v T) *T { return &v }

// TestDecodeDebezium decodes events shaped like the output of Debezium's
// PostgreSQL connector with the JSON converter, with and without the
// schema part.
func TestDecodeDebezium(t *testing.T) {
	withMillis := fixture
	withMillis.UpdatedAt = withMillis.UpdatedAt.Truncate(time.Millisecond)
	tests := []struct {
		file          string
		op            Op
		id            int64
		before, after *activities.Activity
		keyOnly       bool
		tombstone     bool
		snapshot      Snapshot
		isSnapshot    bool
		lsn, txID     *int64
		sourceTsMs    int64
		tx            *Transaction
		message       *LogicalMessage
	}{
		{file: "create.json", op: OpCreate, id: 1001, after: &fixture, snapshot: "false",
			lsn: ptr[int64](24023128), txID: ptr[int64](771), sourceTsMs: 1714552512345},
		{file: "create_schema.json", op: OpCreate, id: 1001, after: &fixture, snapshot: "false",
			lsn: ptr[int64](24023128), txID: ptr[int64](771), sourceTsMs: 1714552512345},
		{file: "create_micro_schema.json", op: OpCreate, id: 1001, after: &fixture, snapshot: "false",
			lsn: ptr[int64](24023128), txID: ptr[int64](771), sourceTsMs: 1714552512345},
		{file: "create_connect_schema.json", op: OpCreate, id: 1001, after: &withMillis, snapshot: "false",
			lsn: ptr[int64](24023128), txID: ptr[int64](771), sourceTsMs: 1714552512345},
		{file: "create_transaction.json", op: OpCreate, id: 1001, after: &fixture, snapshot: "false",
			lsn: ptr[int64](24023128), txID: ptr[int64](771), sourceTsMs: 1714552512345,
			tx: &Transaction{ID: "771:24023128", TotalOrder: 1, DataCollectionOrder: 1}},
		{file: "update_full.json", op: OpUpdate, id: 1001, before: &fixture, after: &fixtureUpdated, snapshot: "false",
			lsn: ptr[int64](24023512), txID: ptr[int64](772), sourceTsMs: 1714552512345},
		{file: "update_default_identity.json", op: OpUpdate, id: 1001, after: &fixtureUpdated, snapshot: "false",
			lsn: ptr[int64](24023512), txID: ptr[int64](772), sourceTsMs: 1714552512345},
		{file: "delete_full.json", op: OpDelete, id: 1001, before: &fixtureUpdated, snapshot: "false",
			lsn: ptr[int64](24023904), txID: ptr[int64](773), sourceTsMs: 1714552512345},
		{file: "delete_full_schema.json", op: OpDelete, id: 1001, before: &fixtureUpdated, snapshot: "false",
			lsn: ptr[int64](24023904), txID: ptr[int64](773), sourceTsMs: 1714552512345},
		{file: "delete_key_only.json", op: OpDelete, id: 1001, before: &activities.Activity{ID: 1001}, keyOnly: true, snapshot: "false",
			lsn: ptr[int64](24023904), txID: ptr[int64](773), sourceTsMs: 1714552512345},
		{file: "delete_key_only_docs.json", op: OpDelete, id: 1001, before: &activities.Activity{ID: 1001}, keyOnly: true, snapshot: "false",
			lsn: ptr[int64](24023904), txID: ptr[int64](773), sourceTsMs: 1714552512345},
		{file: "read_snapshot.json", op: OpRead, id: 1001, after: &fixture, snapshot: SnapshotTrue, isSnapshot: true,
			lsn: ptr[int64](24020000), txID: ptr[int64](770), sourceTsMs: 1714552512345},
		{file: "read_snapshot_last.json", op: OpRead, id: 1001, after: &fixture, snapshot: SnapshotLast, isSnapshot: true,
			lsn: ptr[int64](24020000), txID: ptr[int64](770), sourceTsMs: 1714552512345},
		{file: "read_incremental.json", op: OpRead, id: 1001, after: &fixture, snapshot: "incremental", isSnapshot: true,
			lsn: ptr[int64](24030000), sourceTsMs: 1714552512345},
		{file: "read_snapshot_bool_1x.json", op: OpRead, id: 1001, after: &fixture, snapshot: SnapshotTrue, isSnapshot: true,
			lsn: ptr[int64](24020000), txID: ptr[int64](770), sourceTsMs: 1714552512345},
		{file: "read_snapshot_09.json", op: OpRead, id: 1001, after: &fixture, snapshot: SnapshotLast, isSnapshot: true,
			lsn: ptr[int64](24020000), txID: ptr[int64](770), sourceTsMs: 1714552512345},
		{file: "truncate.json", op: OpTruncate, snapshot: "false",
			lsn: ptr[int64](24024200), txID: ptr[int64](774), sourceTsMs: 1714552512345},
		{file: "message.json", op: OpMessage, snapshot: "false",
			lsn: ptr[int64](46523128), txID: ptr[int64](775), sourceTsMs: 1714552512345,
			message: &LogicalMessage{Prefix: "foo", Content: []byte("bar")}},
		{file: "tombstone.json", tombstone: true},
		{file: "tombstone_wrapped.json", tombstone: true},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.file, ".json"), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "debezium", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			c, err := Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if c.Tombstone != tc.tombstone {
				t.Fatalf("Tombstone = %v, want %v", c.Tombstone, tc.tombstone)
			}
			if tc.tombstone {
				return
			}
			if c.Op != tc.op || c.ID != tc.id {
				t.Errorf("op %s id %d, want %s %d", c.Op, c.ID, tc.op, tc.id)
			}
			if got, want := activityString(c.Before), activityString(tc.before); got != want {
				t.Errorf("before\n got %s\nwant %s", got, want)
			}
			if got, want := activityString(c.After), activityString(tc.after); got != want {
				t.Errorf("after\n got %s\nwant %s", got, want)
			}
			if c.BeforeKeyOnly != tc.keyOnly {
				t.Errorf("BeforeKeyOnly = %v, want %v", c.BeforeKeyOnly, tc.keyOnly)
			}
			if c.Source.Snapshot != tc.snapshot || c.IsSnapshot() != tc.isSnapshot {
				t.Errorf("snapshot %q (IsSnapshot %v), want %q (%v)", c.Source.Snapshot, c.IsSnapshot(), tc.snapshot, tc.isSnapshot)
			}
			if fmt.Sprint(deref(c.Source.LSN), deref(c.Source.TxID)) != fmt.Sprint(deref(tc.lsn), deref(tc.txID)) {
				t.Errorf("lsn %v txId %v, want %v %v", deref(c.Source.LSN), deref(c.Source.TxID), deref(tc.lsn), deref(tc.txID))
			}
			if c.Source.TsMs != tc.sourceTsMs || c.Source.Connector != "postgresql" || c.Source.Name != "sportsdata" {
				t.Errorf("source %+v, want ts_ms %d from postgresql connector sportsdata", c.Source, tc.sourceTsMs)
			}
			if fmt.Sprint(c.Transaction) != fmt.Sprint(tc.tx) {
				t.Errorf("transaction %+v, want %+v", c.Transaction, tc.tx)
			}
			if fmt.Sprint(c.Message) != fmt.Sprint(tc.message) {
				t.Errorf("message %+v, want %+v", c.Message, tc.message)
			}
			if c.Source.LSN != nil && c.EventID == "" {
				t.Errorf("no event id derived from the source")
			}
		})
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestDecodeKey(t *testing.T) {
	tests := []struct {
		key    string
		id     int64
		ok     bool
		hasErr bool
	}{
		{key: `{"id":1001}`, id: 1001, ok: true},
		{key: `{"id":"1001"}`, id: 1001, ok: true},
		{key: `{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],"optional":false,"name":"sportsdata.public.sport_activities.Key"},"payload":{"id":1001}}`, id: 1001, ok: true},
		{key: `1001`, id: 1001, ok: true},
		{key: ``},
		{key: `null`},
		{key: `{"prefix":"foo"}`},
		{key: `{"schema":null,"payload":null}`},
		{key: `{"id":"x"}`, hasErr: true},
		{key: `{not json`, hasErr: true},
	}
	for _, tc := range tests {
		id, ok, err := DecodeKey([]byte(tc.key))
		if (err != nil) != tc.hasErr || id != tc.id || ok != tc.ok {
			t.Errorf("DecodeKey(%s) = %d, %v, %v; want %d, %v, error %v", tc.key, id, ok, err, tc.id, tc.ok, tc.hasErr)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ value, want string }{
		{`not json`, "not a change event"},
		{`[1,2]`, "not a change event"},
		{`{"before":null,"after":null,"source":{},"ts_ms":1}`, `op ""`},
		{`{"op":"x","source":{}}`, `op "x"`},
		{`{"op":"c","before":null,"after":null,"source":{}}`, "c event without an after image"},
		{`{"op":"u","before":{"id":1},"after":null,"source":{}}`, "u event without an after image"},
		{`{"op":"c","after":{"id":1,"start_time":"yesterday"},"source":{}}`, "after: column start_time"},
		{`{"op":"c","after":{"id":1,"distance_m":"far"},"source":{}}`, "after: column distance_m"},
		{`{"op":"m","source":{}}`, "m event without a message"},
		{`{"op":"c","after":{"id":1},"source":{"snapshot":{"x":1}}}`, "source.snapshot"},
	}
	for _, tc := range tests {
		_, err := Decode([]byte(tc.value))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Decode(%s) = %v, want an error containing %q", tc.value, err, tc.want)
		}
	}
}

// TestDecodeMessage reads the row id of a tombstone from the message key,
// and the event id from the message ID.
func TestDecodeMessage(t *testing.T) {
	tests := []struct {
		name    string
		msg     bus.Message
		id      int64
		eventID string
		tomb    bool
	}{
		{"tombstone", bus.Message{Key: `{"id":1001}`}, 1001, "", true},
		{"tombstone with schema", bus.Message{Key: `{"schema":{"type":"struct"},"payload":{"id":7}}`, Value: []byte("null")}, 7, "", true},
		{"podium id", bus.Message{Key: `{"id":5}`, ID: "pg1-0/16B3748-0",
			Value: []byte(`{"before":{"id":5},"after":null,"source":{"lsn":1},"op":"d"}`)}, 5, "pg1-0/16B3748-0", false},
		{"debezium derived id", bus.Message{Key: `{"id":5}`,
			Value: []byte(`{"before":{"id":5},"after":null,"source":{"connector":"postgresql","name":"s","txId":9,"lsn":42},"op":"d"}`)},
			5, "postgresql/s/9/42/d/5", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := DecodeMessage(&tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if c.ID != tc.id || c.EventID != tc.eventID || c.Tombstone != tc.tomb {
				t.Fatalf("id %d, event id %q, tombstone %v; want %d, %q, %v", c.ID, c.EventID, c.Tombstone, tc.id, tc.eventID, tc.tomb)
			}
		})
	}
}

func TestAppendValues(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"int8", string(appendPGText(nil, kindInt, []byte("-9223372036854775808"))), "-9223372036854775808"},
		{"float8", string(appendPGText(nil, kindFloat, []byte("10250.5"))), "10250.5"},
		{"float8 integral", string(appendPGText(nil, kindFloat, []byte("5000"))), "5000.0"}, // a double stays a double
		{"float8 exponent", string(appendPGText(nil, kindFloat, []byte("1e-07"))), "1e-7"},
		{"float8 NaN", string(appendPGText(nil, kindFloat, []byte("NaN"))), `"NaN"`},
		{"float8 infinity", string(appendPGText(nil, kindFloat, []byte("-Infinity"))), `"-Infinity"`},
		{"bool", string(appendPGText(nil, kindBool, []byte("t"))), "true"},
		{"timestamptz", string(appendPGText(nil, kindTimestampTZ, []byte("2024-05-01 09:30:00.5+02"))), `"2024-05-01T07:30:00.500000Z"`},
		{"timestamptz offset minutes", string(appendPGText(nil, kindTimestampTZ, []byte("2024-05-01 13:00:00+05:30"))), `"2024-05-01T07:30:00.000000Z"`},
		{"timestamptz infinity", string(appendPGText(nil, kindTimestampTZ, []byte("infinity"))), `"infinity"`},
		{"timestamp", string(appendPGText(nil, kindTimestamp, []byte("2024-05-01 07:30:00.000001"))), "1714548600000001"},
		{"date", string(appendPGText(nil, kindDate, []byte("2024-05-01"))), "19844"},
		{"text escapes", string(appendPGText(nil, kindText, []byte("a\"b\\c\n\x01<é>\u2028"))), `"a\"b\\c\n\u0001<é>\u2028"`},
		{"text invalid utf-8", string(appendPGText(nil, kindText, []byte("a\xffb"))), `"a\ufffdb"`},
		{"sqlite real", mustJSON(t, kindFloat, `10000.0`), "10000.0"},
		{"sqlite integer as real", mustJSON(t, kindInt, `3600.0`), "3600"},
		{"sqlite time modernc", mustJSON(t, kindTimestampTZ, `"2024-05-01 09:30:00.123456789+02:00"`), `"2024-05-01T07:30:00.123456Z"`},
		{"sqlite time CURRENT_TIMESTAMP", mustJSON(t, kindTimestampTZ, `"2024-05-01 07:30:00"`), `"2024-05-01T07:30:00.000000Z"`},
		{"sqlite time RFC 3339", mustJSON(t, kindTimestampTZ, `"2024-05-01T07:30:00Z"`), `"2024-05-01T07:30:00.000000Z"`},
		{"sqlite time Go String", mustJSON(t, kindTimestampTZ, `"2024-05-01 07:30:00.25 +0000 UTC"`), `"2024-05-01T07:30:00.250000Z"`},
		{"sqlite time unix", mustJSON(t, kindTimestampTZ, `1714548600`), `"2024-05-01T07:30:00.000000Z"`},
		{"sqlite text number", mustJSON(t, kindText, `42`), `"42"`},
		{"sqlite null", mustJSON(t, kindText, `null`), `null`},
		{"sqlite not a time", mustJSON(t, kindTimestampTZ, `"soon"`), `"soon"`},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

func mustJSON(t *testing.T, k kind, raw string) string {
	t.Helper()
	b, err := appendJSONValue(nil, k, raw)
	if err != nil {
		t.Fatalf("appendJSONValue(%s): %v", raw, err)
	}
	return string(b)
}

func TestDedup(t *testing.T) {
	d := NewDedup(3)
	for i, tc := range []struct {
		id   string
		seen bool
	}{{"a", false}, {"b", false}, {"a", true}, {"c", false}, {"d", false}, {"a", false}, {"d", true}, {"", false}, {"", false}} {
		if got := d.Seen(tc.id); got != tc.seen {
			t.Errorf("step %d: Seen(%q) = %v, want %v", i, tc.id, got, tc.seen)
		}
	}
}

// TestEventJSON: the hand-written encoding of events is encoding/json's.
func TestEventJSON(t *testing.T) {
	seq, tx, lsn := `["1","2"]`, int64(5), int64(77)
	events := []Event{
		{After: json.RawMessage(`{"id":1,"c":"x<y>&\u00e9"}`), Source: Source{Version: "podium", Connector: "postgresql", Name: "s",
			TsMs: 1, TsUs: 1000, TsNs: 1000000, Snapshot: SnapshotFalse, DB: "d", Sequence: &seq, Schema: "public", Table: "t",
			TxID: &tx, LSN: &lsn}, Op: OpCreate, TsMs: 2, TsUs: 2000, TsNs: 2000000},
		{Before: json.RawMessage(`{"id":1}`), Op: OpDelete, Source: Source{Snapshot: SnapshotLast, Name: "quote\"d\n"},
			Transaction: &Transaction{ID: "5:77", TotalOrder: 3, DataCollectionOrder: 2}},
		{Op: OpMessage, Message: &LogicalMessage{Prefix: "p", Content: []byte("bar")}},
		{Op: OpMessage, Message: &LogicalMessage{Prefix: "p"}},
		{Op: OpTruncate},
	}
	for i, e := range events {
		got, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&e); err != nil {
			t.Fatal(err)
		}
		if string(got) != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("event %d:\n got %s\nwant %s", i, got, want.String())
		}
	}
	if _, err := (&Event{Op: OpCreate, After: json.RawMessage(`{"id":`)}).Marshal(); err == nil {
		t.Errorf("an invalid row image was encoded")
	}
}

func TestScanFlat(t *testing.T) {
	tests := []struct {
		src  string
		want string // key=raw pairs, or "error"
	}{
		{`{"id":1,"c":"a\"b","n":null,"f":1.5e3,"t":true}`, `id=1 c="a\"b" n=null f=1.5e3 t=true`},
		{` { "id" : 1 , "s" : "x}" } `, `id=1 s="x}"`},
		{`{}`, ``},
		{`{"k\u0065y":2}`, `key=2`},
		{`{"a":{"b":1}}`, `error`},
		{`{"a":[1]}`, `error`},
		{`{"a":1} x`, `error`},
		{`{"a":"unterminated}`, `error`},
		{`{"a" 1}`, `error`},
		{`[1]`, `error`},
	}
	for _, tc := range tests {
		fields, err := scanFlat(tc.src, nil)
		var parts []string
		for _, f := range fields {
			parts = append(parts, f.key+"="+f.raw)
		}
		got := strings.Join(parts, " ")
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("scanFlat(%s) = %s, want %s", tc.src, got, tc.want)
		}
	}
}

// TestFastTop: the envelope's fast path takes the events podium's captures
// write (but logical messages) and Debezium's, gives up on what encoding/json
// might read otherwise, and agrees with encoding/json where it decodes.
func TestFastTop(t *testing.T) {
	tests := []struct {
		name  string
		value string
		fast  bool
	}{
		{"event", `{"before":null,"after":{"id":1},"source":{"lsn":2,"txId":"3","snapshot":"true"},"transaction":null,"op":"c","ts_ms":4}`, true},
		{"transaction", `{"op":"d","before":{"id":1},"source":{},"transaction":{"id":"1:2","total_order":3,"data_collection_order":"4","x":[]}}`, true},
		{"wrapper", `{"schema":{"type":"struct","fields":[]},"payload":{"op":"c","after":{"id":1},"source":{}}}`, true},
		{"wrapped tombstone", ` {"schema":null , "payload":null} `, true},
		{"unknown keys", `{"op":"c","after":{"id":1},"source":{"extra":{"a":[1,2.5e-3,true,null]}},"x_y":"\u00e9"}`, true},
		{"escapes in values", `{"op":"c","after":{"id":1},"source":{"name":"a\"b","snapshot":"tr\u0075e"}}`, true},
		{"message", `{"op":"m","source":{},"message":{"prefix":"p","content":"YmFy"}}`, false},
		{"duplicate key", `{"op":"c","op":"u","after":{"id":1},"source":{}}`, false},
		{"duplicate source key", `{"op":"c","after":{"id":1},"source":{"lsn":1,"lsn":2}}`, false},
		{"case variant", `{"op":"c","after":{"id":1},"Source":{"lsn":1}}`, false},
		{"case variant in source", `{"op":"c","after":{"id":1},"source":{"txid":1}}`, false},
		{"escaped key", `{"\u006fp":"c","after":{"id":1},"source":{}}`, false},
		{"non-ASCII key", `{"op":"c","after":{"id":1},"ſource":{}}`, false},
		{"float ts_ms", `{"op":"c","after":{"id":1},"source":{},"ts_ms":1.0}`, false},
		{"null op", `{"op":null,"payload":{"op":"c","after":{"id":1}}}`, false},
		{"bad snapshot", `{"op":"c","after":{"id":1},"source":{"snapshot":{"x":1}}}`, false},
		{"invalid JSON", `{"op":"c","after":{"id":01},"source":{}}`, false},
		{"trailing text", `{"op":"c","after":{"id":1},"source":{}} x`, false},
		{"deep", `{"op":"c","after":{"id":1},"source":{},"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, false},
	}
	for _, v := range podiumEvents(t) {
		if len(v) > 0 {
			tests = append(tests, struct {
				name  string
				value string
				fast  bool
			}{"podium", string(v), !bytes.Contains(v, []byte(`"op":"m"`))})
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := []byte(tc.value)
			ev, units, tomb, ok := fastTop(v)
			if ok != tc.fast {
				t.Fatalf("fastTop ok = %v, want %v: %s", ok, tc.fast, tc.value)
			}
			if !ok {
				return
			}
			ev2, units2, tomb2, err := decodeTopJSON(v)
			if err != nil || !reflect.DeepEqual(ev, ev2) || !reflect.DeepEqual(units, units2) || tomb != tomb2 {
				t.Fatalf("fastTop %+v %v %v\ndecodeTopJSON %+v %v %v %v", ev, units, tomb, ev2, units2, tomb2, err)
			}
		})
	}
}

func TestAfterColumns(t *testing.T) {
	for _, tc := range []struct {
		name, event string
		want        map[string]json.RawMessage
	}{
		{"envelope", `{"op":"c","after":{"id":1,"x":null, "y" : [1, 2]},"source":{"lsn":5}}`,
			map[string]json.RawMessage{"id": json.RawMessage(`1`), "x": json.RawMessage(`null`), "y": json.RawMessage(`[1, 2]`)}},
		{"key given twice", `{"op":"u","after":{"id":2,"y":"a","y":"b"}}`,
			map[string]json.RawMessage{"id": json.RawMessage(`2`), "y": json.RawMessage(`"b"`)}},
		{"empty image", `{"op":"r","after":{}}`, map[string]json.RawMessage{}},
		{"delete", `{"op":"d","before":{"id":3,"y":1}}`, nil},
		{"unwrapped row", `{"id":4,"y":true,"__op":"u"}`,
			map[string]json.RawMessage{"id": json.RawMessage(`4`), "y": json.RawMessage(`true`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Decode([]byte(tc.event))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.AfterColumns(); !reflect.DeepEqual(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Errorf("AfterColumns() = %q, want %q", got, tc.want)
			}
		})
	}
}
