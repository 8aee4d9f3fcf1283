package cdc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/jackc/pglogrepl"
)

// pgoutputTuple encodes TupleData as PostgreSQL's pgoutput sends it
// (https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html):
// Int16 column count, then per column a kind byte ('n', 'u', 't', 'b') and,
// for 't' and 'b', an Int32 length and the value.
func pgoutputTuple(cols ...pgCol) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(cols)))
	for _, c := range cols {
		b = append(b, c.kind)
		if c.kind == pgColText || c.kind == pgColBinary {
			b = binary.BigEndian.AppendUint32(b, uint32(len(c.data)))
			b = append(b, c.data...)
		}
	}
	return b
}

func TestPgRowDecoderMatchesPglogrepl(t *testing.T) {
	row := pgoutputTuple(pgCol{pgColText, []byte("42")}, pgCol{kind: pgColNull}, pgCol{pgColText, []byte("emp-042")},
		pgCol{kind: pgColToast}, pgCol{pgColText, []byte("")}, pgCol{pgColBinary, []byte{0, 1, 2}})
	key := pgoutputTuple(pgCol{pgColText, []byte("41")})
	rel := []byte{0, 0, 0x40, 0x01}
	msg := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := map[string][]byte{
		"insert":          msg([]byte("I"), rel, []byte("N"), row),
		"update":          msg([]byte("U"), rel, []byte("N"), row),
		"update, old row": msg([]byte("U"), rel, []byte("O"), row, []byte("N"), row),
		"update, key":     msg([]byte("U"), rel, []byte("K"), key, []byte("N"), row),
		"delete, old row": msg([]byte("D"), rel, []byte("O"), row),
		"delete, key":     msg([]byte("D"), rel, []byte("K"), key),
	}
	same := func(t *testing.T, what string, got *pgTuple, want *pglogrepl.TupleData) {
		t.Helper()
		if err := sameTuple(got, want); err != nil {
			t.Fatalf("%s tuple: %v", what, err)
		}
	}
	var d pgRowDecoder
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if !isRowMessage(data) {
				t.Fatal("not taken for a row message")
			}
			got, err := d.decode(data)
			if err != nil {
				t.Fatal(err)
			}
			want, err := pglogrepl.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if got.relation != 0x4001 {
				t.Errorf("relation %#x, want 0x4001", got.relation)
			}
			switch w := want.(type) {
			case *pglogrepl.InsertMessage:
				same(t, "new", got.new, w.Tuple)
				same(t, "old", got.old, nil)
			case *pglogrepl.UpdateMessage:
				same(t, "new", got.new, w.NewTuple)
				same(t, "old", got.old, w.OldTuple)
			case *pglogrepl.DeleteMessage:
				same(t, "new", got.new, nil)
				same(t, "old", got.old, w.OldTuple)
			default:
				t.Fatalf("pglogrepl parsed a %T", want)
			}
		})
	}
	// Every truncated message is an error, never a panic or a short row.
	for name, data := range cases {
		for n := range len(data) {
			if _, err := d.decode(data[:n]); err == nil {
				t.Errorf("%s cut to %d of %d bytes: no error", name, n, len(data))
			}
		}
	}
	for _, bad := range [][]byte{
		msg([]byte("I"), rel, []byte("O"), row),
		msg([]byte("U"), rel, []byte("X"), row),
		msg([]byte("D"), rel, []byte("N"), row),
		msg([]byte("I"), rel, []byte("N"), []byte{0, 1, 'x'}),
	} {
		if _, err := d.decode(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzPgRowDecoder: on any bytes the decoder of row messages errs or
// decodes, never panics, and what it decodes is what pglogrepl decodes.
func FuzzPgRowDecoder(f *testing.F) {
	row := pgoutputTuple(pgCol{pgColText, []byte("42")}, pgCol{kind: pgColNull}, pgCol{kind: pgColToast},
		pgCol{pgColBinary, []byte{0, 1, 2}})
	key := pgoutputTuple(pgCol{pgColText, []byte("41")})
	rel := []byte{0, 0, 0x40, 0x01}
	msg := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	f.Add(msg([]byte("I"), rel, []byte("N"), row))
	f.Add(msg([]byte("U"), rel, []byte("O"), row, []byte("N"), row))
	f.Add(msg([]byte("U"), rel, []byte("K"), key, []byte("N"), row))
	f.Add(msg([]byte("D"), rel, []byte("K"), key))
	var d pgRowDecoder
	f.Fuzz(func(t *testing.T, data []byte) {
		if !isRowMessage(data) {
			return
		}
		got, err := d.decode(data)
		if err != nil {
			return
		}
		want, err := pglogrepl.Parse(data)
		if err != nil {
			t.Fatalf("decoded %q, which pglogrepl refuses: %v", data, err)
		}
		tuples := map[string][2]*pglogrepl.TupleData{}
		switch w := want.(type) {
		case *pglogrepl.InsertMessage:
			tuples["insert"] = [2]*pglogrepl.TupleData{nil, w.Tuple}
		case *pglogrepl.UpdateMessage:
			tuples["update"] = [2]*pglogrepl.TupleData{w.OldTuple, w.NewTuple}
		case *pglogrepl.DeleteMessage:
			tuples["delete"] = [2]*pglogrepl.TupleData{w.OldTuple, nil}
		default:
			t.Fatalf("pglogrepl parsed %q as a %T", data, want)
		}
		for _, pair := range tuples {
			for i, tup := range []*pgTuple{got.old, got.new} {
				if err := sameTuple(tup, pair[i]); err != nil {
					t.Fatalf("%q: tuple %d: %v", data, i, err)
				}
			}
		}
	})
}

// sameTuple says how got differs from pglogrepl's want, if it does.
func sameTuple(got *pgTuple, want *pglogrepl.TupleData) error {
	if (got == nil) != (want == nil) {
		return fmt.Errorf("got %v, pglogrepl %v", got, want)
	}
	if got == nil {
		return nil
	}
	if len(got.cols) != len(want.Columns) {
		return fmt.Errorf("%d columns, pglogrepl %d", len(got.cols), len(want.Columns))
	}
	for i, c := range want.Columns {
		if got.cols[i].kind != c.DataType || !bytes.Equal(got.cols[i].data, c.Data) {
			return fmt.Errorf("column %d: %q %q, pglogrepl %q %q", i, got.cols[i].kind, got.cols[i].data, c.DataType, c.Data)
		}
	}
	return nil
}
