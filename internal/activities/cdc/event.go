// Package cdc is the change-data-capture of the activities table: every
// insert, update and delete of sport_activities becomes a change event on
// the topic sportsdata.public.sport_activities, in commit order, shaped like
// the events of Debezium's PostgreSQL connector (JSON converter; without the
// schema part unless Config.Schema asks for it), keyed by {"id":N}.
//
// Two captures produce the same events:
//
//   - Postgres reads the table's changes through logical replication
//     (pgoutput): a publication and a replication slot named after the
//     capture, an initial snapshot from the slot's exported snapshot, then
//     the stream from the slot's confirmed position, which advances only
//     after the bus acknowledged the events;
//   - SQLite relays the rows that triggers write into a change table, and
//     deletes them once the bus acknowledged them.
//
// Delivery is at least once: after a crash, the events between the last
// confirmed position and the crash are published again. Each event carries a
// stable bus.Message.ID (from the commit LSN and the event's index in its
// transaction on PostgreSQL, from the change id on SQLite), so JetStream's
// duplicate window drops a re-published event, and consumers drop the rest
// with Dedup.
//
// Each delete is followed by a tombstone (Config.NoTombstones leaves them
// out); on PostgreSQL, pg_logical_emit_message gives op "m" events, and the
// capture's own heartbeats (HeartbeatPrefix) keep its slot's confirmed
// position moving while the table is quiet. A lost slot is taken again
// with a truncate event and a new snapshot, logged and counted once per
// loss; Metrics holds the slot's WAL gauges and losses, and WriteStatus
// describes it.
//
// Decode and DecodeMessage read these events, and those of a real Debezium
// PostgreSQL connector: with or without the schema part, tombstones, a
// before image holding only the key, truncate and message events, rows
// unwrapped by the ExtractNewRecordState SMT.
package cdc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

// Op is the operation of a change event (Debezium's "op").
type Op string

// The operations of change events.
const (
	OpCreate   Op = "c" // a row was inserted
	OpUpdate   Op = "u" // a row was updated
	OpDelete   Op = "d" // a row was deleted
	OpRead     Op = "r" // a row read by a snapshot
	OpTruncate Op = "t" // the table was truncated
	OpMessage  Op = "m" // a logical decoding message (pg_logical_emit_message)
)

func (o Op) valid() bool {
	switch o {
	case OpCreate, OpUpdate, OpDelete, OpRead, OpTruncate, OpMessage:
		return true
	}
	return false
}

// Snapshot is source.snapshot: whether an event was read by a snapshot.
// Debezium 2.x writes a string ("true", "first", "last", "false",
// "incremental", ...); older versions wrote a boolean, which decodes to
// "true" or "false".
type Snapshot string

// Values of Snapshot written by the captures.
const (
	SnapshotFalse Snapshot = "false" // a streamed change
	SnapshotFirst Snapshot = "first" // the first row of a snapshot
	SnapshotTrue  Snapshot = "true"  // a row read by a snapshot
	SnapshotLast  Snapshot = "last"  // the last row of a snapshot
)

// IsSnapshot reports whether s marks an event read by a snapshot, initial
// or incremental.
func (s Snapshot) IsSnapshot() bool { return s != "" && s != SnapshotFalse }

// UnmarshalJSON accepts a string, a boolean or null.
func (s *Snapshot) UnmarshalJSON(b []byte) error {
	switch v := string(bytes.TrimSpace(b)); v {
	case "null":
		*s = ""
	case "true":
		*s = SnapshotTrue
	case "false":
		*s = SnapshotFalse
	default:
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return fmt.Errorf("source.snapshot: want a string or a boolean, got %s", v)
		}
		*s = Snapshot(str)
	}
	return nil
}

// Source is the "source" block of an event: where and when the change
// happened.
type Source struct {
	// Version is the version of the producer: "podium" for podium's
	// captures, Debezium's version for Debezium's.
	Version string `json:"version"`
	// Connector is "postgresql" or "sqlite".
	Connector string `json:"connector"`
	// Name is the logical server name, the topic prefix ("sportsdata").
	Name string `json:"name"`
	// TsMs is when the change was committed (for a snapshot, when the
	// snapshot was read), in Unix milliseconds; TsUs and TsNs are the same
	// time in micro- and nanoseconds.
	TsMs     int64    `json:"ts_ms"`
	Snapshot Snapshot `json:"snapshot"`
	DB       string   `json:"db"`
	// Sequence is a JSON array as a string: the LSN of the last commit and
	// the LSN of the event, as decimal strings (PostgreSQL only).
	Sequence *string `json:"sequence"`
	TsUs     int64   `json:"ts_us,omitempty"`
	TsNs     int64   `json:"ts_ns,omitempty"`
	Schema   string  `json:"schema"`
	Table    string  `json:"table"`
	// TxID is the transaction id (PostgreSQL xid).
	TxID *int64 `json:"txId"`
	// LSN is the position of the change: the WAL position of its record on
	// PostgreSQL, the change id on SQLite.
	LSN  *int64 `json:"lsn"`
	Xmin *int64 `json:"xmin"`
}

// UnmarshalJSON decodes a source block tolerantly: numbers may be JSON
// numbers or strings.
func (s *Source) UnmarshalJSON(b []byte) error {
	var w sourceWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = w.source()
	return nil
}

// sourceWire is a source block as written, the fields of every Debezium
// version podium reads; source makes it a Source.
type sourceWire struct {
	Version   string   `json:"version"`
	Connector string   `json:"connector"`
	Name      string   `json:"name"`
	TsMs      flexInt  `json:"ts_ms"`
	TsUs      flexInt  `json:"ts_us"`
	TsNs      flexInt  `json:"ts_ns"`
	TsUsec    flexInt  `json:"ts_usec"` // Debezium before 1.0
	Snapshot  Snapshot `json:"snapshot"`
	LastSnap  *bool    `json:"last_snapshot_record"` // Debezium before 1.0
	DB        string   `json:"db"`
	Sequence  *string  `json:"sequence"`
	Schema    string   `json:"schema"`
	Table     string   `json:"table"`
	TxID      *flexInt `json:"txId"`
	LSN       *flexInt `json:"lsn"`
	Xmin      *flexInt `json:"xmin"`
}

// source returns the Source w describes; its pointers become the
// Source's.
func (w *sourceWire) source() Source {
	s := Source{Version: w.Version, Connector: w.Connector, Name: w.Name, TsMs: int64(w.TsMs), TsUs: int64(w.TsUs),
		TsNs: int64(w.TsNs), Snapshot: w.Snapshot, DB: w.DB, Sequence: w.Sequence, Schema: w.Schema, Table: w.Table,
		TxID: (*int64)(w.TxID), LSN: (*int64)(w.LSN), Xmin: (*int64)(w.Xmin)}
	if w.LastSnap != nil && *w.LastSnap && s.Snapshot == SnapshotTrue {
		s.Snapshot = SnapshotLast
	}
	if s.TsMs == 0 && w.TsUsec != 0 {
		s.TsMs, s.TsUs = int64(w.TsUsec)/1000, int64(w.TsUsec)
	}
	return s
}

// Transaction is the "transaction" block Debezium adds when
// provide.transaction.metadata is on.
type Transaction struct {
	ID                  string `json:"id"`
	TotalOrder          int64  `json:"total_order"`
	DataCollectionOrder int64  `json:"data_collection_order"`
}

// UnmarshalJSON decodes a transaction block; the orders may be strings.
func (t *Transaction) UnmarshalJSON(b []byte) error {
	var w transactionWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*t = w.transaction()
	return nil
}

// transactionWire is a transaction block as written.
type transactionWire struct {
	ID                  string  `json:"id"`
	TotalOrder          flexInt `json:"total_order"`
	DataCollectionOrder flexInt `json:"data_collection_order"`
}

func (w *transactionWire) transaction() Transaction {
	return Transaction{ID: w.ID, TotalOrder: int64(w.TotalOrder), DataCollectionOrder: int64(w.DataCollectionOrder)}
}

// LogicalMessage is the "message" block of an OpMessage event: a message
// written with pg_logical_emit_message. Content is base64 in JSON.
type LogicalMessage struct {
	Prefix  string `json:"prefix"`
	Content []byte `json:"content"`
}

// Event is the value of a change event: Debezium's envelope (the "payload"
// part of the JSON converter's output).
type Event struct {
	// Before and After are the row before and after the change, JSON
	// objects with one field per column (nil encodes as null).
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
	Source Source          `json:"source"`
	// Transaction is nil unless the producer adds transaction metadata.
	Transaction *Transaction `json:"transaction"`
	Op          Op           `json:"op"`
	// TsMs is when the capture processed the event (Unix milliseconds);
	// TsUs and TsNs are the same time in micro- and nanoseconds.
	TsMs int64 `json:"ts_ms"`
	TsUs int64 `json:"ts_us,omitempty"`
	TsNs int64 `json:"ts_ns,omitempty"`
	// Message is set on OpMessage events only.
	Message *LogicalMessage `json:"message,omitempty"`
}

// Marshal encodes e as Debezium's JSON converter does with
// schemas.enable=false.
func (e *Event) Marshal() ([]byte, error) {
	for _, raw := range []json.RawMessage{e.Before, e.After} {
		if len(raw) > 0 && !json.Valid(raw) {
			return nil, fmt.Errorf("encode %s change event: invalid row image %.40q", e.Op, raw)
		}
	}
	return e.appendJSON(nil), nil
}

// appendJSON appends e as JSON: what encoding/json writes for the struct
// (without HTML escaping), written by hand as captures encode every change.
// Before and After must be valid JSON.
func (e *Event) appendJSON(b []byte) []byte {
	raw := func(b []byte, v json.RawMessage) []byte {
		if len(v) == 0 {
			return append(b, "null"...)
		}
		return append(b, v...)
	}
	optInt := func(b []byte, v *int64) []byte {
		if v == nil {
			return append(b, "null"...)
		}
		return strconv.AppendInt(b, *v, 10)
	}
	b = append(b, `{"before":`...)
	b = raw(b, e.Before)
	b = append(b, `,"after":`...)
	b = raw(b, e.After)
	s := &e.Source
	b = append(b, `,"source":{"version":`...)
	b = appendString(b, s.Version)
	b = append(b, `,"connector":`...)
	b = appendString(b, s.Connector)
	b = append(b, `,"name":`...)
	b = appendString(b, s.Name)
	b = append(b, `,"ts_ms":`...)
	b = strconv.AppendInt(b, s.TsMs, 10)
	b = append(b, `,"snapshot":`...)
	b = appendString(b, string(s.Snapshot))
	b = append(b, `,"db":`...)
	b = appendString(b, s.DB)
	b = append(b, `,"sequence":`...)
	if s.Sequence == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *s.Sequence)
	}
	if s.TsUs != 0 {
		b = append(b, `,"ts_us":`...)
		b = strconv.AppendInt(b, s.TsUs, 10)
	}
	if s.TsNs != 0 {
		b = append(b, `,"ts_ns":`...)
		b = strconv.AppendInt(b, s.TsNs, 10)
	}
	b = append(b, `,"schema":`...)
	b = appendString(b, s.Schema)
	b = append(b, `,"table":`...)
	b = appendString(b, s.Table)
	b = append(b, `,"txId":`...)
	b = optInt(b, s.TxID)
	b = append(b, `,"lsn":`...)
	b = optInt(b, s.LSN)
	b = append(b, `,"xmin":`...)
	b = optInt(b, s.Xmin)
	b = append(b, `},"transaction":`...)
	if t := e.Transaction; t == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"id":`...)
		b = appendString(b, t.ID)
		b = append(b, `,"total_order":`...)
		b = strconv.AppendInt(b, t.TotalOrder, 10)
		b = append(b, `,"data_collection_order":`...)
		b = strconv.AppendInt(b, t.DataCollectionOrder, 10)
		b = append(b, '}')
	}
	b = append(b, `,"op":`...)
	b = appendString(b, string(e.Op))
	b = append(b, `,"ts_ms":`...)
	b = strconv.AppendInt(b, e.TsMs, 10)
	if e.TsUs != 0 {
		b = append(b, `,"ts_us":`...)
		b = strconv.AppendInt(b, e.TsUs, 10)
	}
	if e.TsNs != 0 {
		b = append(b, `,"ts_ns":`...)
		b = strconv.AppendInt(b, e.TsNs, 10)
	}
	if m := e.Message; m != nil {
		b = append(b, `,"message":{"prefix":`...)
		b = appendString(b, m.Prefix)
		b = append(b, `,"content":`...)
		if m.Content == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, m.Content)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// flexInt decodes a JSON number or a string holding one.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	n, err := parseInt(b)
	if err != nil {
		return err
	}
	*f = flexInt(n)
	return nil
}

// parseInt decodes a JSON number or a string holding one (not null) as
// an integer; a fraction is dropped.
func parseInt[T string | []byte](b T) (int64, error) {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal([]byte(b), &s); err != nil {
			return 0, err
		}
		return parseIntText(s)
	}
	return parseIntText(b)
}

func parseIntText[T string | []byte](b T) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		fl, ferr := strconv.ParseFloat(string(b), 64)
		if ferr != nil {
			return 0, fmt.Errorf("want an integer, got %s", b)
		}
		n = int64(fl)
	}
	return n, nil
}

func (f *flexInt) ptr() *int64 {
	if f == nil {
		return nil
	}
	n := int64(*f)
	return &n
}
