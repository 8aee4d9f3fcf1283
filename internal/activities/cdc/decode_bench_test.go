package cdc

import "testing"

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
