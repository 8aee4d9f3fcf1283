package cdc

import (
	"strconv"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/jsonscan"
)

// The envelope's fast path: decodeTop's work without encoding/json's
// reflection, for the shapes podium's captures and Debezium's connector
// write. It scans the event's object by hand, validating every value as
// encoding/json would, keeps the row images and the schema part as raw
// bytes, and decodes source and transaction itself. Whatever it is not
// sure to decode exactly as encoding/json does makes it give up, and
// decodeTopJSON decodes the event (results and errors as before): keys with
// escapes or outside ASCII, keys equal to a known one but for case (which
// encoding/json would match), a key given twice, values of unexpected
// types, numbers that are no plain integers, a message block, nesting
// deeper than jsonscan.MaxDepth, invalid JSON. FuzzDecodeFastPaths compares the
// two paths.

// The members of an event, in the order of the keys of eventKeys; the
// last two only in the JSON converter's wrapper.
const (
	evBefore = iota
	evAfter
	evSource
	evTransaction
	evOp
	evTsMs
	evTsUs
	evTsNs
	evMessage
	evSchema
	evPayload
)

var (
	eventKeys       = []string{"before", "after", "source", "transaction", "op", "ts_ms", "ts_us", "ts_ns", "message", "schema", "payload"}
	sourceKeys      = []string{"version", "connector", "name", "ts_ms", "ts_us", "ts_ns", "ts_usec", "snapshot", "last_snapshot_record", "db", "sequence", "schema", "table", "txId", "lsn", "xmin"}
	transactionKeys = []string{"id", "total_order", "data_collection_order"}
)

// fastTop is decodeTop for the common shapes of events; ok is false when
// decodeTopJSON must decode v. The row images and schema part of ev alias v.
func fastTop(v []byte) (ev Event, units map[string]timeUnit, tombstone bool, ok bool) {
	var schema, payload []byte
	var hasOp bool
	if ev, schema, payload, hasOp, ok = fastEvent(v, true); !ok {
		return Event{}, nil, false, false
	}
	if payload == nil || hasOp {
		return ev, nil, false, true
	}
	// The JSON converter's wrapper, as decodePayload reads it.
	units, err := schemaUnits(schema)
	if err != nil {
		return Event{}, nil, false, false
	}
	if string(payload) == "null" {
		return Event{}, nil, true, true
	}
	if ev, _, _, _, ok = fastEvent(payload, false); !ok {
		return Event{}, nil, false, false
	}
	return ev, units, false, true
}

// fastEvent decodes the object in v into an Event as encoding/json does;
// with wrapper, also the schema and payload members of the JSON
// converter's wrapper (nil when absent) and whether op is present. ok is
// false when it cannot.
func fastEvent(v []byte, wrapper bool) (ev Event, schema, payload []byte, hasOp bool, ok bool) {
	keys := eventKeys
	if !wrapper {
		keys = eventKeys[:evSchema]
	}
	var seen uint32
	ok = jsonscan.Members(v, func(key, val []byte) bool {
		i, ok := jsonscan.MemberIndex(key, keys, &seen)
		switch {
		case !ok:
			return false
		case i == evBefore:
			ev.Before = val
		case i == evAfter:
			ev.After = val
		case i == evSource:
			ev.Source, ok = fastSource(val)
		case i == evTransaction:
			ev.Transaction, ok = fastTransaction(val)
		case i == evOp:
			var op string
			op, ok = fastString(val)
			ev.Op, hasOp = Op(op), true
		case i == evTsMs:
			ev.TsMs, ok = fastInt64(val)
		case i == evTsUs:
			ev.TsUs, ok = fastInt64(val)
		case i == evTsNs:
			ev.TsNs, ok = fastInt64(val)
		case i == evMessage:
			ok = string(val) == "null"
		case i == evSchema:
			schema = val
		case i == evPayload:
			payload = val
		}
		return ok
	})
	return ev, schema, payload, hasOp, ok
}

// fastSource decodes a source block as (*Source).UnmarshalJSON does.
func fastSource(v []byte) (Source, bool) {
	var w sourceWire
	var seen uint32
	ok := jsonscan.Members(v, func(key, val []byte) bool {
		i, ok := jsonscan.MemberIndex(key, sourceKeys, &seen)
		if !ok {
			return false
		}
		switch i {
		case 0:
			return fastSetString(&w.Version, val)
		case 1:
			return fastSetString(&w.Connector, val)
		case 2:
			return fastSetString(&w.Name, val)
		case 3:
			return w.TsMs.UnmarshalJSON(val) == nil
		case 4:
			return w.TsUs.UnmarshalJSON(val) == nil
		case 5:
			return w.TsNs.UnmarshalJSON(val) == nil
		case 6:
			return w.TsUsec.UnmarshalJSON(val) == nil
		case 7:
			if val[0] == '"' {
				s, ok := fastString(val)
				w.Snapshot = Snapshot(s)
				return ok
			}
			return w.Snapshot.UnmarshalJSON(val) == nil
		case 8:
			switch string(val) {
			case "true", "false":
				b := string(val) == "true"
				w.LastSnap = &b
			case "null":
			default:
				return false
			}
		case 9:
			return fastSetString(&w.DB, val)
		case 10:
			if string(val) == "null" {
				return true
			}
			s, ok := fastString(val)
			w.Sequence = &s
			return ok
		case 11:
			return fastSetString(&w.Schema, val)
		case 12:
			return fastSetString(&w.Table, val)
		case 13:
			return fastSetInt(&w.TxID, val)
		case 14:
			return fastSetInt(&w.LSN, val)
		case 15:
			return fastSetInt(&w.Xmin, val)
		}
		return true
	})
	if !ok {
		return Source{}, false
	}
	return w.source(), true
}

// fastTransaction decodes a transaction block (or null) as
// (*Transaction).UnmarshalJSON does.
func fastTransaction(v []byte) (*Transaction, bool) {
	if string(v) == "null" {
		return nil, true
	}
	var w transactionWire
	var seen uint32
	ok := jsonscan.Members(v, func(key, val []byte) bool {
		i, ok := jsonscan.MemberIndex(key, transactionKeys, &seen)
		if !ok {
			return false
		}
		switch i {
		case 0:
			return fastSetString(&w.ID, val)
		case 1:
			return w.TotalOrder.UnmarshalJSON(val) == nil
		case 2:
			return w.DataCollectionOrder.UnmarshalJSON(val) == nil
		}
		return true
	})
	if !ok {
		return nil, false
	}
	t := w.transaction()
	return &t, true
}

// fastString decodes the JSON string val (validated); ok is false for
// anything else. The values most events repeat come without an
// allocation.
func fastString(val []byte) (string, bool) {
	if val[0] != '"' {
		return "", false
	}
	if s, ok := commonStrings[string(val[1:len(val)-1])]; ok {
		return s, true
	}
	s, err := jsonscan.Unquote(string(val))
	return s, err == nil
}

// commonStrings maps the strings of the envelopes of podium's and
// Debezium's events that repeat from event to event to themselves: ops,
// snapshot values, source names.
var commonStrings = func() map[string]string {
	m := map[string]string{}
	for _, s := range []string{"", string(OpCreate), string(OpUpdate), string(OpDelete), string(OpRead),
		string(OpTruncate), string(OpMessage), string(SnapshotFalse), string(SnapshotTrue), string(SnapshotFirst),
		string(SnapshotLast), "incremental", SourceVersion, "postgresql", "sqlite", "sportsdata", "podium", "postgres",
		"public", "main", activities.Table} {
		m[s] = s
	}
	return m
}()

// fastSetString stores the JSON string val in *dst, as encoding/json
// does a string field: null leaves it; other types are refused.
func fastSetString(dst *string, val []byte) bool {
	if string(val) == "null" {
		return true
	}
	s, ok := fastString(val)
	*dst = s
	return ok
}

// fastSetInt stores val in *dst as encoding/json does a *flexInt field.
func fastSetInt(dst **flexInt, val []byte) bool {
	if string(val) == "null" {
		*dst = nil
		return true
	}
	n := new(flexInt)
	if n.UnmarshalJSON(val) != nil {
		return false
	}
	*dst = n
	return true
}

// fastInt64 decodes an int64 field as encoding/json does, for a JSON
// integer in range; ok is false for anything else.
func fastInt64(val []byte) (int64, bool) {
	if val[0] != '-' && (val[0] < '0' || val[0] > '9') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(val), 10, 64)
	return n, err == nil
}
