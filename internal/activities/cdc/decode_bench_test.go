package cdc

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
)

// updateEvent is a change event as podium's captures write it: an update
// of sport_activities, before and after images, no schema part.
func updateEvent() Event {
	lsn, tx, seq := int64(23896128), int64(771), `["23896000","23896128"]`
	return Event{
		Op:     OpUpdate,
		Before: []byte(`{"id":1042,"employee_id":"B000217","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","distance_m":8000,"elapsed_s":2700,"comment":"","source":"generated","updated_at":"2025-06-01T09:00:00.123456Z"}`),
		After:  []byte(`{"id":1042,"employee_id":"B000217","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","distance_m":8250.5,"elapsed_s":2760,"comment":"Morning run","source":"api","updated_at":"2025-06-02T10:15:00.654321Z"}`),
		Source: Source{Version: "podium", Connector: "postgresql", Name: "sportsdata", TsMs: 1748768400000,
			Snapshot: SnapshotFalse, DB: "podium", Sequence: &seq, Schema: "public", Table: "sport_activities", TxID: &tx, LSN: &lsn},
		TsMs: 1748768400100,
	}
}

// BenchmarkDecode decodes updateEvent.
func BenchmarkDecode(b *testing.B) {
	ev := updateEvent()
	raw, err := ev.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// podiumEvents returns the values of the messages podium's captures write
// for an insert, an update, an update of the key, a delete, a snapshot
// read, a truncate and logical messages on PostgreSQL and an update on
// SQLite, without and with the schema part (tombstones included), and
// updateEvent.
func podiumEvents(tb testing.TB) [][]byte {
	tb.Helper()
	table := pgTable{keys: map[string]bool{"id": true}, notNull: map[string]bool{"id": true}}
	oids := []struct {
		name string
		oid  uint32
	}{{"id", 20}, {"employee_id", 25}, {"start_time", 1184}, {"sport_type", 25}, {"distance_m", 701}, {"elapsed_s", 23},
		{"manual", 16}, {"comment", 25}, {"source", 25}, {"updated_at", 1184}, {"day", 1082}, {"local_time", 1114}}
	cols := make([]column, len(oids))
	for i, c := range oids {
		cols[i] = table.column(c.name, c.oid)
	}
	row := func(id, dist, comment string) *image {
		var ib imageBuilder
		ib.start()
		for i, text := range []string{id, "E\"7", "2025-06-01 07:30:00+02", "Run", dist, "2700", "t", comment, "api",
			"2025-06-02 10:15:00.654321+00", "2025-06-01", "2025-06-01 07:30:00.5"} {
			from := ib.field(cols[i].name)
			ib.row = appendPGText(ib.row, cols[i].kind, []byte(text))
			ib.done(cols[i], from)
		}
		return new(ib.finish())
	}
	lsn, tx, seq := int64(23896128), int64(771), `[null,"23896128"]`
	src := Source{Version: SourceVersion, Connector: "postgresql", Name: "sportsdata", Snapshot: SnapshotFalse,
		DB: "podium", Schema: "public", Table: "sport_activities", Sequence: &seq, TxID: &tx, LSN: &lsn}
	sourceTimes(&src, time.Date(2025, 6, 2, 10, 15, 0, 123456789, time.UTC))
	snap := src
	snap.Snapshot, snap.Sequence, snap.TxID = SnapshotLast, nil, nil
	sqlite := Source{Version: SourceVersion, Connector: "sqlite", Name: "sportsdata", Snapshot: SnapshotFalse,
		DB: "main", Schema: "main", Table: "sport_activities", LSN: &lsn}
	sourceTimes(&sqlite, time.UnixMilli(1748859300123))
	id := func(n int) string { return "e-" + strconv.Itoa(n) }
	var values [][]byte
	for _, cfg := range []Config{{ServerName: "sportsdata"}, {ServerName: "sportsdata", Schema: true}} {
		sch := cfg.newSchemas("public", "sport_activities", cols)
		var msgs []*bus.Message
		msgs = append(msgs, cfg.messages(rowChange{op: OpCreate, after: row("1042", "8000", ""), schemas: sch}, src, id)...)
		msgs = append(msgs, cfg.messages(rowChange{op: OpUpdate, before: row("1042", "8000", ""), after: row("1042", "NaN", "a\tb\u2028é"), schemas: sch}, src, id)...)
		msgs = append(msgs, cfg.messages(rowChange{op: OpUpdate, before: row("1042", "8000", ""), after: row("1043", "1e-07", ""), schemas: sch}, src, id)...)
		msgs = append(msgs, cfg.messages(rowChange{op: OpDelete, before: row("1043", "8250.5", "x"), schemas: sch}, src, id)...)
		msgs = append(msgs, cfg.messages(rowChange{op: OpRead, after: row("7", "-0", ""), schemas: sch}, snap, id)...)
		msgs = append(msgs, cfg.messages(rowChange{op: OpTruncate, schemas: sch}, src, id)...)
		msgs = append(msgs, cfg.messages(rowChange{op: OpUpdate, before: row("9", "1", ""), after: row("9", "2", ""), schemas: sch}, sqlite, id)...)
		msgs = append(msgs, cfg.messageEvent(HeartbeatPrefix, []byte("beat"), src), cfg.messageEvent("p\"", nil, snap))
		for _, m := range msgs {
			values = append(values, m.Value)
		}
	}
	ev := updateEvent()
	v, err := ev.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return append(values, v)
}

// FuzzDecodeFastPaths checks Decode's fast paths against encoding/json's
// general decoding, on any input: the envelope read by hand (fastTop)
// against encoding/json in one pass (decodeTopJSON) and field by field
// (decodeFields), which must agree on valid JSON; a row split by scanFlat
// against a map, and decoded from scanFlat's fields against from that
// map. Seeded with the Debezium events of
// testdata/debezium and podium's own, as its captures write them.
//
//	go test ./internal/activities/cdc -run '^$' -fuzz '^FuzzDecodeFastPaths$' -fuzztime 2m -fuzzminimizetime 5s
//
// (The seeds are events of a few kilobytes: minimizing each new input for
// the default minute leaves little time for fuzzing.)
func FuzzDecodeFastPaths(f *testing.F) {
	for _, b := range debeziumEvents(f) {
		f.Add(b)
	}
	for _, v := range podiumEvents(f) {
		f.Add(v)
	}
	f.Add([]byte(`{"op":"c","after":{"id":1,"employee_id":"E\"1","x":null},"source":{"lsn":"5"}}`))
	f.Add([]byte(`{"schema":{"fields":[]},"payload":{"op":"d","before":{"id":2}}}`))
	f.Add([]byte(`{"payload":null,"schema":null}`))
	f.Add([]byte(`{"op":null,"payload":{"op":"c"}}`))
	f.Add([]byte(`{"id":7,"id":8,"sport_type":"Run","a":{"b":1}}`))
	f.Add([]byte(`{"op":"u","OP":"c","source":{"txId":1,"txid":"2"},"transaction":{"id":"1:2","total_order":"3"}}`))
	f.Add([]byte(`{"op":"r","ts_ms":1.5e3,"source":{"snapshot":true,"last_snapshot_record":true,"ts_usec":"17"}}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		ev, units, tomb, ok := fastTop(v)
		ev2, units2, tomb2, slowErr := decodeTopJSON(v)
		if ok && (slowErr != nil || !reflect.DeepEqual(ev, ev2) || !reflect.DeepEqual(units, units2) || tomb != tomb2) {
			t.Fatalf("fastTop %+v %v %v\ndecodeTopJSON %+v %v %v %v", ev, units, tomb, ev2, units2, tomb2, slowErr)
		}
		if !json.Valid(v) {
			if ok {
				t.Fatalf("fastTop accepted invalid JSON")
			}
			return
		}
		ev3, units3, tomb3, fieldsErr := decodeFields(v)
		if (slowErr == nil) != (fieldsErr == nil) {
			t.Fatalf("decodeTopJSON error %v, decodeFields error %v", slowErr, fieldsErr)
		}
		if slowErr == nil && (!reflect.DeepEqual(ev2, ev3) || !reflect.DeepEqual(units2, units3) || tomb2 != tomb3) {
			t.Fatalf("decodeTopJSON %+v %v %v\ndecodeFields %+v %v %v", ev2, units2, tomb2, ev3, units3, tomb3)
		}
		cols, err := rowColumns(v)
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal(v, &want)
		if (err == nil) != (wantErr == nil) || (err == nil && !reflect.DeepEqual(cols, want)) {
			t.Fatalf("rowColumns %v, %v; want %v, %v", cols, err, want, wantErr)
		}
		if wantErr != nil || want == nil {
			return
		}
		a, keyOnly, image, err := decodeRow(v, nil)
		cols = (&Change{afterImage: image}).AfterColumns()
		wantA, wantKeyOnly, wantErr := decodeColumns(columnFields(want), nil)
		if (err == nil) != (wantErr == nil) || (err == nil && (!reflect.DeepEqual(a, wantA) || keyOnly != wantKeyOnly || !reflect.DeepEqual(cols, want))) {
			t.Fatalf("decodeRow %+v %v %v %v\nfrom a map %+v %v %v", a, keyOnly, cols, err, wantA, wantKeyOnly, wantErr)
		}
	})
}
