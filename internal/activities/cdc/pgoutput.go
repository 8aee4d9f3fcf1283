package cdc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// pgoutput's row messages (protocol version 1), decoded without copying:
// the tuples' values are slices of the message, valid until the next
// receive. pglogrepl.Parse allocates a column and a copy of its value for
// every column of every row, which was a fifth of the capture's
// allocations; the other messages (relation, begin, commit, truncate,
// logical decoding messages) still go through pglogrepl.

// Tuple column kinds, as pglogrepl names them.
const (
	pgColNull   = 'n' // a NULL
	pgColToast  = 'u' // an unchanged TOASTed value, not sent
	pgColText   = 't' // a value in text format
	pgColBinary = 'b' // a value in binary format
)

// pgCol is one column of a tuple.
type pgCol struct {
	kind byte
	data []byte // of pgColText and pgColBinary
}

// pgTuple is a row image of a pgoutput message. A nil *pgTuple is absent.
type pgTuple struct{ cols []pgCol }

// pgRowMessage is an insert ('I'), update ('U') or delete ('D') message.
// old is nil when the message carries no old tuple ('K' key or 'O' old
// row); new is nil for a delete.
type pgRowMessage struct {
	kind     byte
	relation uint32
	old, new *pgTuple
}

// pgRowDecoder decodes row messages into tuples it reuses.
type pgRowDecoder struct {
	old, new pgTuple
}

// isRowMessage reports whether a pgoutput message is one decodeRow takes.
func isRowMessage(data []byte) bool {
	return len(data) > 0 && (data[0] == 'I' || data[0] == 'U' || data[0] == 'D')
}

// decode decodes an 'I', 'U' or 'D' message. What it returns is valid until
// the next call and as long as data is.
func (d *pgRowDecoder) decode(data []byte) (pgRowMessage, error) {
	var m pgRowMessage
	if len(data) < 6 {
		return m, fmt.Errorf("pgoutput %q message of %d bytes is too short", data[:min(len(data), 1)], len(data))
	}
	m.kind, m.relation = data[0], binary.BigEndian.Uint32(data[1:5])
	rest := data[5:]
	var err error
	tuple := func(t *pgTuple, what string) (*pgTuple, error) {
		rest, err = t.decode(rest[1:])
		if err != nil {
			return nil, fmt.Errorf("pgoutput %q message of relation %d, %s tuple: %w", m.kind, m.relation, what, err)
		}
		return t, nil
	}
	switch m.kind {
	case 'I':
		if rest[0] != 'N' {
			return m, fmt.Errorf("pgoutput insert message of relation %d: tuple type %q, want N", m.relation, rest[0])
		}
		m.new, err = tuple(&d.new, "new")
	case 'U':
		if rest[0] == 'K' || rest[0] == 'O' {
			if m.old, err = tuple(&d.old, "old"); err != nil {
				return m, err
			}
			if len(rest) == 0 {
				return m, fmt.Errorf("pgoutput update message of relation %d ends after its old tuple", m.relation)
			}
		}
		if rest[0] != 'N' {
			return m, fmt.Errorf("pgoutput update message of relation %d: tuple type %q, want K, O or N", m.relation, rest[0])
		}
		m.new, err = tuple(&d.new, "new")
	case 'D':
		if rest[0] != 'K' && rest[0] != 'O' {
			return m, fmt.Errorf("pgoutput delete message of relation %d: tuple type %q, want K or O", m.relation, rest[0])
		}
		m.old, err = tuple(&d.old, "old")
	default:
		return m, fmt.Errorf("pgoutput message %q is not a row message", m.kind)
	}
	return m, err
}

// decode reads TupleData from src into t and returns what follows it.
func (t *pgTuple) decode(src []byte) ([]byte, error) {
	if len(src) < 2 {
		return nil, fmt.Errorf("%d bytes, no column count", len(src))
	}
	n := int(binary.BigEndian.Uint16(src))
	if n == 0 {
		return nil, errors.New("a row without columns") // a table has at least its key
	}
	src = src[2:]
	t.cols = t.cols[:0]
	for i := range n {
		if len(src) < 1 {
			return nil, fmt.Errorf("column %d of %d missing", i+1, n)
		}
		c := pgCol{kind: src[0]}
		src = src[1:]
		switch c.kind {
		case pgColNull, pgColToast:
		case pgColText, pgColBinary:
			if len(src) < 4 {
				return nil, fmt.Errorf("column %d: no length", i+1)
			}
			l := binary.BigEndian.Uint32(src)
			src = src[4:]
			if uint64(l) > uint64(len(src)) {
				return nil, fmt.Errorf("column %d: %d bytes announced, %d left", i+1, l, len(src))
			}
			c.data, src = src[:l:l], src[l:]
		default:
			return nil, fmt.Errorf("column %d: unknown kind %q", i+1, c.kind)
		}
		t.cols = append(t.cols, c)
	}
	return src, nil
}
