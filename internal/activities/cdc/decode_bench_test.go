package cdc

import (
	"encoding/json"
	"reflect"
	"testing"
)

// BenchmarkDecode decodes a change event as podium's captures write it:
// an update of sport_activities, before and after images, no schema part.
func BenchmarkDecode(b *testing.B) {
	lsn, tx, seq := int64(23896128), int64(771), `["23896000","23896128"]`
	ev := Event{
		Op:     OpUpdate,
		Before: []byte(`{"id":1042,"employee_id":"B000217","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","distance_m":8000,"elapsed_s":2700,"comment":"","source":"generated","updated_at":"2025-06-01T09:00:00.123456Z"}`),
		After:  []byte(`{"id":1042,"employee_id":"B000217","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","distance_m":8250.5,"elapsed_s":2760,"comment":"Morning run","source":"api","updated_at":"2025-06-02T10:15:00.654321Z"}`),
		Source: Source{Version: "podium", Connector: "postgresql", Name: "sportsdata", TsMs: 1748768400000,
			Snapshot: SnapshotFalse, DB: "podium", Sequence: &seq, Schema: "public", Table: "sport_activities", TxID: &tx, LSN: &lsn},
		TsMs: 1748768400100,
	}
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

// FuzzDecodeFastPaths checks Decode's fast paths against encoding/json's
// general decoding: the top level read in one pass against field by field
// (decodeFields), and a row split by scanFlat against a map.
func FuzzDecodeFastPaths(f *testing.F) {
	f.Add([]byte(`{"op":"c","after":{"id":1,"employee_id":"E\"1","x":null},"source":{"lsn":"5"}}`))
	f.Add([]byte(`{"schema":{"fields":[]},"payload":{"op":"d","before":{"id":2}}}`))
	f.Add([]byte(`{"payload":null,"schema":null}`))
	f.Add([]byte(`{"op":null,"payload":{"op":"c"}}`))
	f.Add([]byte(`{"id":7,"id":8,"sport_type":"Run","a":{"b":1}}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		if !json.Valid(v) {
			return
		}
		ev, units, tomb, fastErr := decodeTop(v)
		ev2, units2, tomb2, slowErr := decodeFields(v)
		if (fastErr == nil) != (slowErr == nil) {
			t.Fatalf("decodeTop error %v, decodeFields error %v", fastErr, slowErr)
		}
		if fastErr == nil && (!reflect.DeepEqual(ev, ev2) || !reflect.DeepEqual(units, units2) || tomb != tomb2) {
			t.Fatalf("decodeTop %+v %v %v\ndecodeFields %+v %v %v", ev, units, tomb, ev2, units2, tomb2)
		}
		cols, err := rowColumns(v)
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal(v, &want)
		if (err == nil) != (wantErr == nil) || (err == nil && !reflect.DeepEqual(cols, want)) {
			t.Fatalf("rowColumns %v, %v; want %v, %v", cols, err, want, wantErr)
		}
	})
}
