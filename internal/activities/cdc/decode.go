package cdc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/jsonscan"
)

// Change is a decoded change event of the activities table.
type Change struct {
	Op Op
	// ID is the primary key of the changed row: After's, else Before's,
	// else (DecodeMessage) the message key's.
	ID int64
	// Before is the row before an update or a delete, nil for inserts and
	// snapshot reads, and for updates of a table whose REPLICA IDENTITY is
	// DEFAULT.
	Before *activities.Activity
	// BeforeKeyOnly says that Before holds only the primary key (REPLICA
	// IDENTITY DEFAULT at the source): its other fields are zero values,
	// not the row's.
	BeforeKeyOnly bool
	// After is the row after an insert, an update or a snapshot read; nil
	// for deletes.
	After *activities.Activity
	// afterImage is the after image's text, which After's strings share
	// (Decode), and afterCols its columns (decodeUnwrapped): AfterColumns
	// splits the image only when asked, so that a decoded change does not
	// hold its image twice.
	afterImage string
	afterCols  map[string]json.RawMessage
	// Tombstone marks a message without a value, which Debezium sends after
	// each delete for Kafka's log compaction. Only ID is set (from the
	// message key, by DecodeMessage); consumers skip it.
	Tombstone bool
	Source    Source
	// TsMs is when the producer processed the event (Unix milliseconds).
	TsMs        int64
	Transaction *Transaction
	// Message is the logical decoding message of an OpMessage event.
	Message *LogicalMessage
	// EventID identifies the event for de-duplication: the message ID
	// given by podium's captures, else (Debezium) one derived from the
	// source position. Empty when unknown (tombstones).
	EventID string
}

// AfterColumns returns the columns of the after image as the event gives
// them (null ones included), for consumers that read columns After has no
// field for; nil when there is no after image. Each call splits the image
// again into a new map.
func (c *Change) AfterColumns() map[string]json.RawMessage {
	if c.afterCols != nil || c.afterImage == "" {
		return c.afterCols
	}
	cols, err := rowColumns(json.RawMessage(c.afterImage))
	if err != nil {
		return nil // not reached: Decode split the same image
	}
	return cols
}

// IsSnapshot reports whether c was read by a snapshot rather than streamed.
func (c *Change) IsSnapshot() bool { return c.Op == OpRead || c.Source.Snapshot.IsSnapshot() }

// Final folds changes, in order, into the final state of each activity they
// touch (nil: deleted), and says whether the table was truncated before
// those states: what a sink applies for a batch. Tombstones and logical
// messages change nothing.
func Final(changes []Change) (final map[int64]*activities.Activity, truncated bool) {
	final = map[int64]*activities.Activity{}
	for _, c := range changes {
		switch {
		case c.Tombstone, c.Op == OpMessage:
		case c.Op == OpTruncate:
			truncated = true
			clear(final)
		case c.Op == OpDelete:
			final[c.ID] = nil
		default: // c, u, r: After is set (Decode checks)
			a := *c.After
			final[c.ID] = &a
		}
	}
	return final, truncated
}

// Decode decodes the value of a change event, podium's or a Debezium
// PostgreSQL connector's: with or without the JSON converter's schema part;
// a null or empty value is a tombstone; before may hold only the key;
// source.snapshot may be a boolean or a string. Rows are decoded into
// activities.Activity: timestamptz columns from ISO-8601 strings
// (ZonedTimestamp), timestamp columns from epoch numbers (units from the
// schema part when present, else by magnitude), unknown columns ignored.
func Decode(value []byte) (c Change, err error) {
	defer func() {
		if err != nil {
			err = readable(err)
		}
	}()
	v := bytes.TrimSpace(value)
	if len(v) == 0 || string(v) == "null" {
		return Change{Tombstone: true}, nil
	}
	ev, units, tombstone, err := decodeTop(v)
	if err != nil || (!tombstone && ev.Op == "" && ev.Before == nil && ev.After == nil) {
		// No envelope: a row flattened by Debezium's ExtractNewRecordState
		// (whose columns may include one named source, which the envelope's
		// decoding refuses).
		if top, ok := unwrappedRow(v); ok {
			return decodeUnwrapped(top)
		}
		if err != nil {
			return Change{}, err
		}
	}
	if tombstone {
		return Change{Tombstone: true}, nil
	}
	if !ev.Op.valid() {
		return Change{}, fmt.Errorf("change event op %q: want one of c, u, d, r, t, m", ev.Op)
	}
	c = Change{Op: ev.Op, Source: ev.Source, TsMs: ev.TsMs, Transaction: ev.Transaction, Message: ev.Message}
	if c.Before, c.BeforeKeyOnly, _, err = decodeRow(ev.Before, units); err != nil {
		return Change{}, fmt.Errorf("%s event: before: %w", c.Op, err)
	}
	if c.After, _, c.afterImage, err = decodeRow(ev.After, units); err != nil {
		return Change{}, fmt.Errorf("%s event: after: %w", c.Op, err)
	}
	switch {
	case (c.Op == OpCreate || c.Op == OpRead || c.Op == OpUpdate) && c.After == nil:
		return Change{}, fmt.Errorf("%s event without an after image", c.Op)
	case c.Op == OpMessage && c.Message == nil:
		return Change{}, errors.New("m event without a message")
	}
	switch {
	case c.After != nil:
		c.ID = c.After.ID
	case c.Before != nil:
		c.ID = c.Before.ID
	}
	c.EventID = sourceEventID(&c)
	return c, nil
}

// decodeTop decodes the event in v (not empty, not null), or the JSON
// converter's {"schema": ..., "payload": ...} wrapper around it (a wrapper
// has a payload and no op): by fastTop when it can, else by decodeTopJSON.
// tombstone reports a wrapper with a null payload. The row images and
// schema part of ev may alias v.
func decodeTop(v []byte) (ev Event, units map[string]timeUnit, tombstone bool, err error) {
	if ev, units, tombstone, ok := fastTop(v); ok {
		return ev, units, tombstone, nil
	}
	return decodeTopJSON(v)
}

// decodeTopJSON is decodeTop by encoding/json: in one pass over the
// event's fields and the wrapper's; when that fails, field by field as the
// wrapper's parts allow (the wrapper's other fields are ignored).
func decodeTopJSON(v []byte) (ev Event, units map[string]timeUnit, tombstone bool, err error) {
	var top struct {
		Event
		Op      json.RawMessage `json:"op"` // shadows Event.Op: nil when absent
		Payload json.RawMessage `json:"payload"`
		Schema  json.RawMessage `json:"schema"`
	}
	if json.Unmarshal(v, &top) != nil {
		return decodeFields(v)
	}
	if top.Payload == nil || top.Op != nil {
		ev = top.Event
		if top.Op != nil {
			if err := json.Unmarshal(top.Op, &ev.Op); err != nil {
				return Event{}, nil, false, fmt.Errorf("not a change event: %w", err)
			}
		}
		return ev, nil, false, nil
	}
	return decodePayload(top.Schema, top.Payload)
}

// decodeFields is decodeTopJSON field by field: the wrapper's parts first,
// matched as encoding/json matches names (case-insensitively, so that
// both paths agree on {"Payload": null}), then the event.
func decodeFields(v []byte) (ev Event, units map[string]timeUnit, tombstone bool, err error) {
	var top struct {
		Op      json.RawMessage `json:"op"`
		Payload json.RawMessage `json:"payload"`
		Schema  json.RawMessage `json:"schema"`
	}
	if err := json.Unmarshal(v, &top); err != nil {
		return Event{}, nil, false, fmt.Errorf("not a change event: %w", err)
	}
	if top.Payload != nil && top.Op == nil {
		return decodePayload(top.Schema, top.Payload)
	}
	if err := json.Unmarshal(v, &ev); err != nil {
		return Event{}, nil, false, fmt.Errorf("not a change event: %w", err)
	}
	return ev, nil, false, nil
}

// unwrappedRow returns the fields of v when it is a row flattened by
// ExtractNewRecordState (a JSON object without op, before and after),
// bare or in the JSON converter's wrapper.
func unwrappedRow(v []byte) (map[string]json.RawMessage, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(v, &top) != nil {
		return nil, false
	}
	if payload, ok := top["payload"]; ok && top["op"] == nil {
		top = nil
		if json.Unmarshal(payload, &top) != nil {
			return nil, false
		}
	}
	if top == nil || top["op"] != nil || top["before"] != nil || top["after"] != nil {
		return nil, false
	}
	return top, true
}

// decodePayload decodes the payload of the JSON converter's wrapper, with
// the time units its schema gives.
func decodePayload(schema, payload json.RawMessage) (ev Event, units map[string]timeUnit, tombstone bool, err error) {
	if units, err = schemaUnits(schema); err != nil {
		return Event{}, nil, false, fmt.Errorf("change event schema: %w", err)
	}
	v := bytes.TrimSpace(payload)
	if len(v) == 0 || string(v) == "null" {
		return Event{}, nil, true, nil
	}
	if err := json.Unmarshal(v, &ev); err != nil {
		return Event{}, nil, false, fmt.Errorf("not a change event: %w", err)
	}
	return ev, units, false, nil
}

// DecodeMessage decodes a change event read from the bus: Decode, plus the
// row id from the message key when the value has none (tombstones), and
// EventID from the message ID when the producer set one.
func DecodeMessage(m *bus.Message) (Change, error) {
	c, err := Decode(m.Value)
	if err != nil {
		return c, err
	}
	if c.Before == nil && c.After == nil {
		id, ok, err := DecodeKey([]byte(m.Key))
		if err != nil {
			return c, err
		}
		if ok {
			c.ID = id
		}
	}
	if m.ID != "" {
		c.EventID = m.ID
	}
	return c, nil
}

// DecodeKey decodes the key of a change event: Debezium's {"id":42}, with or
// without the schema part, or a bare number. ok is false for an empty key
// and for keys without an id (truncate and message events).
func DecodeKey(key []byte) (id int64, ok bool, err error) {
	k := bytes.TrimSpace(key)
	if len(k) == 0 || string(k) == "null" {
		return 0, false, nil
	}
	if k[0] != '{' {
		var n flexInt
		if err := json.Unmarshal(k, &n); err != nil {
			return 0, false, fmt.Errorf("change event key %q: %w", key, err)
		}
		return int64(n), true, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(k, &top); err != nil {
		return 0, false, fmt.Errorf("change event key %q: %w", key, err)
	}
	if p, wrapped := top["payload"]; wrapped && top["id"] == nil {
		if err := json.Unmarshal(p, &top); err != nil || top == nil {
			return 0, false, nil
		}
	}
	raw, found := top["id"]
	if !found {
		return 0, false, nil
	}
	var n flexInt
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, false, fmt.Errorf("change event key %q: id: %w", key, err)
	}
	return int64(n), true, nil
}

// sourceEventID derives an event id from the source block of a Debezium
// event, which has no message ID: the change's LSN within the transaction.
func sourceEventID(c *Change) string {
	if c.Source.LSN == nil {
		return ""
	}
	tx := int64(-1)
	if c.Source.TxID != nil {
		tx = *c.Source.TxID
	}
	// connector/name/txId/lsn/op/id
	var a [96]byte
	b := append(a[:0], c.Source.Connector...)
	b = append(append(b, '/'), c.Source.Name...)
	b = strconv.AppendInt(append(b, '/'), tx, 10)
	b = strconv.AppendInt(append(b, '/'), *c.Source.LSN, 10)
	b = append(append(b, '/'), c.Op...)
	b = strconv.AppendInt(append(b, '/'), c.ID, 10)
	return string(b)
}

// timeUnit is the unit of a time column written as a number.
type timeUnit int

const (
	unitGuess timeUnit = iota // no schema: by magnitude
	unitDays
	unitMillis
	unitMicros
	unitNanos
)

// schemaUnits reads the units of the time columns of before and after from
// the schema part of an event (Kafka Connect schema names).
func schemaUnits(schema json.RawMessage) (map[string]timeUnit, error) {
	if len(bytes.TrimSpace(schema)) == 0 || string(bytes.TrimSpace(schema)) == "null" {
		return nil, nil
	}
	type field struct {
		Field  string  `json:"field"`
		Name   string  `json:"name"`
		Fields []field `json:"fields"`
	}
	var s field
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil, err
	}
	units := map[string]timeUnit{}
	for _, f := range s.Fields {
		if f.Field != "before" && f.Field != "after" {
			continue
		}
		for _, col := range f.Fields {
			switch col.Name {
			case "io.debezium.time.Date", "org.apache.kafka.connect.data.Date":
				units[col.Field] = unitDays
			case "io.debezium.time.Timestamp", "org.apache.kafka.connect.data.Timestamp":
				units[col.Field] = unitMillis
			case "io.debezium.time.MicroTimestamp":
				units[col.Field] = unitMicros
			case "io.debezium.time.NanoTimestamp":
				units[col.Field] = unitNanos
			}
		}
	}
	return units, nil
}

// decodeRow decodes a row image into an activity and returns the image's
// text (trimmed; empty for a missing or null image), which the activity's
// strings may share. keyOnly reports an image whose columns other than id
// are all missing, null or zero values.
func decodeRow(raw json.RawMessage, units map[string]timeUnit) (a *activities.Activity, keyOnly bool, image string, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, "", nil
	}
	src := string(raw)
	fields, err := scanFlat(src, make([]field, 0, 16))
	if err != nil || duplicateKeys(fields) {
		cols, err := rowColumns(raw)
		if err != nil {
			return nil, false, "", err
		}
		fields = columnFields(cols)
	}
	a, keyOnly, err = decodeColumns(fields, units)
	return a, keyOnly, src, err
}

// decodeColumns decodes the columns of a row image, each given once, into
// an activity; columns it has no field for are ignored.
func decodeColumns(cols []field, units map[string]timeUnit) (a *activities.Activity, keyOnly bool, err error) {
	a = &activities.Activity{}
	keyOnly = true
	hasID := false
	for _, col := range cols {
		name, v := col.key, strings.TrimSpace(col.raw)
		null := v == "null"
		if name == "id" {
			hasID = true
		} else if !null && !zeroValue(v) {
			keyOnly = false
		}
		if null {
			continue
		}
		var err error
		switch name {
		case "id":
			a.ID, err = parseInt(v) // v is one valid JSON value
		case "employee_id":
			a.EmployeeID, err = text(v)
		case "sport_type":
			a.SportType, err = text(v)
		case "comment":
			a.Comment, err = text(v)
		case "source":
			a.Source, err = text(v)
		case "distance_m":
			a.DistanceM, err = number(v)
		case "elapsed_s":
			var n int64
			n, err = parseInt(v)
			a.ElapsedS = int(n)
		case "moving_s":
			var n int64
			n, err = parseInt(v)
			a.MovingS = int(n)
		case "manual":
			a.Manual, err = flag(v)
		case "trainer":
			a.Trainer, err = flag(v)
		case "commute":
			a.Commute, err = flag(v)
		case "start_time":
			a.StartTime, err = timestamp(v, units[name])
		case "updated_at":
			a.UpdatedAt, err = timestamp(v, units[name])
		}
		if err != nil {
			return nil, false, fmt.Errorf("column %s: %w", name, err)
		}
	}
	if !hasID {
		keyOnly = false
	}
	return a, keyOnly, nil
}

// rowColumns splits a row image (one valid JSON value) into its columns:
// a flat object by scanFlat, anything else by encoding/json.
func rowColumns(raw json.RawMessage) (map[string]json.RawMessage, error) {
	src := string(raw)
	fields, err := scanFlat(src, make([]field, 0, 16))
	if err != nil {
		var cols map[string]json.RawMessage
		err := json.Unmarshal(raw, &cols)
		return cols, err
	}
	return fieldColumns(src, fields), nil
}

// fieldColumns returns the members of src split by scanFlat as a map (a
// key given twice: its last value), their values in one copy of src.
func fieldColumns(src string, fields []field) map[string]json.RawMessage {
	buf := []byte(src)
	cols := make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		end := f.at + len(f.raw)
		cols[f.key] = buf[f.at:end:end]
	}
	return cols
}

// columnFields returns the columns of a map as fields.
func columnFields(cols map[string]json.RawMessage) []field {
	fields := make([]field, 0, len(cols))
	for k, v := range cols {
		fields = append(fields, field{key: k, raw: string(v)})
	}
	return fields
}

// duplicateKeys reports whether a key appears twice in fields.
func duplicateKeys(fields []field) bool {
	for i := range fields {
		for j := range i {
			if fields[i].key == fields[j].key {
				return true
			}
		}
	}
	return false
}

// zeroValue reports whether v is the zero value of its JSON type, which
// Debezium may write for the NOT NULL columns of a key-only before image.
func zeroValue(v string) bool {
	switch v {
	case `""`, "0", "0.0", "false":
		return true
	}
	return false
}

// flag decodes a boolean column: true or false, or 1 or 0 (SQLite's
// booleans, and Debezium's for a MySQL TINYINT(1)).
func flag(v string) (bool, error) {
	switch v {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("want a boolean, got %s", v)
}

// text decodes a string column; other JSON scalars give their text.
func text(v string) (string, error) {
	if v[0] != '"' {
		if v[0] == '{' || v[0] == '[' {
			return "", fmt.Errorf("want a string, got %s", v)
		}
		return v, nil
	}
	return jsonscan.Unquote(v)
}

// number decodes a float column: a JSON number, or a string holding one,
// which is how Kafka Connect's JSON converter writes the FLOAT64 values JSON
// has no number for ("NaN", "Infinity", "-Infinity") and how Debezium writes
// decimals with decimal.handling.mode=string ("10250.5"). A number beyond
// float64 is ±Inf. Such values decode so that data quality can quarantine
// them with a readable reason; only text that is no number is an error.
func number(v string) (float64, error) {
	s := v
	if v[0] == '"' {
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return 0, err
		}
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity", "+Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		// Only a JSON number: not Go's other spellings (hexadecimal,
		// underscores, "inf").
		if !json.Valid([]byte(s)) || s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
			return 0, fmt.Errorf("want a number, got %s", v)
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("want a number, got %s", v)
	}
	return f, nil
}

// timestamp decodes a time column: an ISO-8601 string (ZonedTimestamp) or a
// number of days, milliseconds, microseconds or nanoseconds since the
// epoch.
func timestamp(v string, unit timeUnit) (time.Time, error) {
	if v[0] == '"' {
		s, err := jsonscan.Unquote(v)
		if err != nil {
			return time.Time{}, err
		}
		t, err := parseTime(s)
		if err != nil {
			return time.Time{}, err
		}
		return t.UTC(), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a time, got %s", v)
	}
	if unit == unitGuess {
		switch abs := math.Abs(f); {
		case abs < 1e6:
			unit = unitDays
		case abs < 1e14:
			unit = unitMillis
		case abs < 1e17:
			unit = unitMicros
		default:
			unit = unitNanos
		}
	}
	n := int64(f)
	switch unit {
	case unitDays:
		return time.Unix(n*86400, 0).UTC(), nil
	case unitMillis:
		return time.UnixMilli(n).UTC(), nil
	case unitMicros:
		return time.UnixMicro(n).UTC(), nil
	}
	return time.Unix(0, n).UTC(), nil
}
