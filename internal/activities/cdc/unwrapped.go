package cdc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// ErrBareRow is returned by Decode for a row without its envelope and
// without the fields Debezium's ExtractNewRecordState SMT adds on demand:
// nothing says whether it was deleted.
var ErrBareRow = errors.New("a bare row, not a change event: Debezium's ExtractNewRecordState SMT (\"unwrap\") without add.fields; " +
	"set transforms.unwrap.add.fields=op,table,lsn,source.ts_ms and transforms.unwrap.delete.tombstone.handling.mode=rewrite " +
	"(delete.handling.mode=rewrite before Debezium 2.5), or remove the SMT")

// decodeUnwrapped decodes the fields of a row flattened by Debezium's
// ExtractNewRecordState SMT: the after image (the before image of a
// delete) with the fields add.fields asked for, prefixed with "__" —
// __op, __table, __lsn, __source_ts_ms... — and __deleted with
// delete.handling.mode=rewrite. The op comes from __op, else from
// __deleted ("true": d, else u, as the SMT does not say whether a row is
// new). A row with neither is refused (ErrBareRow).
func decodeUnwrapped(fields map[string]json.RawMessage) (Change, error) {
	cols := make(map[string]json.RawMessage, len(fields))
	meta := map[string]json.RawMessage{}
	for k, raw := range fields {
		if name, ok := strings.CutPrefix(k, "__"); ok {
			// __source_ts_ms (the source's field) wins over __ts_ms.
			if src, ok := strings.CutPrefix(name, "source_"); ok {
				meta[src] = raw
			} else if _, seen := meta[name]; !seen {
				meta[name] = raw
			}
		} else {
			cols[k] = raw
		}
	}
	str := func(name string) (string, bool, error) {
		raw, ok := meta[name]
		if !ok || string(bytes.TrimSpace(raw)) == "null" {
			return "", false, nil
		}
		s, err := text(string(bytes.TrimSpace(raw)))
		if err != nil {
			return "", false, fmt.Errorf("__%s: %w", name, err)
		}
		return s, true, nil
	}
	op, hasOp, err := str("op")
	if err != nil {
		return Change{}, err
	}
	deleted, hasDeleted, err := str("deleted")
	if err != nil {
		return Change{}, err
	}
	if !hasOp && !hasDeleted {
		return Change{}, ErrBareRow
	}
	c := Change{Op: Op(op)}
	switch {
	case hasOp && !c.Op.valid():
		return Change{}, fmt.Errorf("unwrapped row: __op %q: want one of c, u, d, r", op)
	case hasOp && (c.Op == OpTruncate || c.Op == OpMessage):
		return Change{}, fmt.Errorf("unwrapped row: __op %q: ExtractNewRecordState passes %s events on unchanged", op, op)
	case deleted == "true":
		c.Op = OpDelete
	case !hasOp:
		c.Op = OpUpdate
	}
	row, keyOnly, err := decodeColumns(columnFields(cols), nil)
	if err != nil {
		return Change{}, fmt.Errorf("unwrapped %s row: %w", c.Op, err)
	}
	if c.Op == OpDelete {
		c.Before, c.BeforeKeyOnly = row, keyOnly
	} else {
		c.After, c.afterCols = row, cols
	}
	c.ID = row.ID
	c.Source.Snapshot = SnapshotFalse
	if c.Op == OpRead {
		c.Source.Snapshot = SnapshotTrue
	}
	for name, dst := range map[string]*string{"table": &c.Source.Table, "schema": &c.Source.Schema, "db": &c.Source.DB,
		"name": &c.Source.Name, "connector": &c.Source.Connector, "version": &c.Source.Version} {
		if *dst, _, err = str(name); err != nil {
			return Change{}, err
		}
	}
	for name, dst := range map[string]**int64{"lsn": &c.Source.LSN, "txId": &c.Source.TxID} {
		if raw, ok := meta[name]; ok {
			var n *flexInt
			if err := json.Unmarshal(raw, &n); err != nil {
				return Change{}, fmt.Errorf("__%s: %w", name, err)
			}
			*dst = n.ptr()
		}
	}
	if raw, ok := meta["ts_ms"]; ok {
		var n flexInt
		if err := json.Unmarshal(raw, &n); err != nil {
			return Change{}, fmt.Errorf("__ts_ms: %w", err)
		}
		c.Source.TsMs, c.TsMs = int64(n), int64(n)
	}
	c.EventID = sourceEventID(&c)
	return c, nil
}

// readable rewrites encoding/json's type errors, which name Go types
// ("cannot unmarshal string into Go struct field Event.op of type cdc.Op"),
// into what the JSON should have held.
func readable(err error) error {
	var ute *json.UnmarshalTypeError
	if !errors.As(err, &ute) {
		return err
	}
	want := "another type"
	switch ute.Type.Kind() {
	case reflect.String:
		want = "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16,
		reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		want = "a number"
	case reflect.Bool:
		want = "a boolean"
	case reflect.Struct, reflect.Map:
		want = "an object"
	case reflect.Slice, reflect.Array:
		want = "an array"
		if ute.Type.Elem().Kind() == reflect.Uint8 {
			want = "a base64 string"
		}
	}
	what := "the value"
	if ute.Field != "" {
		what = "field " + ute.Field
	}
	msg := fmt.Sprintf("%s: want %s, got %s", what, want, ute.Value)
	if ute.Offset > 0 {
		msg += " (at byte " + strconv.FormatInt(ute.Offset, 10) + ")"
	}
	return errors.New(strings.Replace(err.Error(), ute.Error(), msg, 1))
}
