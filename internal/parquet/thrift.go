package parquet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Parquet's footer and page headers are Thrift structs in the compact
// protocol (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md).
// This file holds the part of the protocol parquet.thrift uses.

// Compact protocol type ids.
const (
	tStop   = 0
	tTrue   = 1
	tFalse  = 2
	tByte   = 3
	tI16    = 4
	tI32    = 5
	tI64    = 6
	tDouble = 7
	tBinary = 8
	tList   = 9
	tSet    = 10
	tMap    = 11
	tStruct = 12
)

// tenc writes compact-protocol structs into buf.
type tenc struct {
	buf  []byte
	last []int16 // the last field id of each open struct
}

func (e *tenc) varint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

func (e *tenc) zigzag(v int64) { e.varint(uint64((v << 1) ^ (v >> 63))) }

func (e *tenc) begin() { e.last = append(e.last, 0) }

func (e *tenc) end() {
	e.buf = append(e.buf, tStop)
	e.last = e.last[:len(e.last)-1]
}

func (e *tenc) field(id int16, typ byte) {
	last := &e.last[len(e.last)-1]
	if d := id - *last; d > 0 && d <= 15 {
		e.buf = append(e.buf, byte(d)<<4|typ)
	} else {
		e.buf = append(e.buf, typ)
		e.zigzag(int64(id))
	}
	*last = id
}

func (e *tenc) i32(id int16, v int32) { e.field(id, tI32); e.zigzag(int64(v)) }

func (e *tenc) i64(id int16, v int64) { e.field(id, tI64); e.zigzag(v) }

func (e *tenc) bool(id int16, v bool) {
	if v {
		e.field(id, tTrue)
	} else {
		e.field(id, tFalse)
	}
}

func (e *tenc) binary(id int16, b []byte) {
	e.field(id, tBinary)
	e.bytes(b)
}

func (e *tenc) bytes(b []byte) {
	e.varint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

func (e *tenc) structField(id int16) { e.field(id, tStruct); e.begin() }

func (e *tenc) list(id int16, elem byte, n int) {
	e.field(id, tList)
	if n < 15 {
		e.buf = append(e.buf, byte(n)<<4|elem)
	} else {
		e.buf = append(e.buf, 0xf0|elem)
		e.varint(uint64(n))
	}
}

// errThrift is a malformed Thrift struct.
var errThrift = errors.New("malformed thrift data")

// tdec reads compact-protocol structs from buf.
type tdec struct {
	buf   []byte
	pos   int
	depth int
}

// maxThriftDepth bounds the nesting of structs and containers, so that a
// crafted header cannot exhaust the stack.
const maxThriftDepth = 32

func (d *tdec) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", errThrift, what, d.pos)
}

func (d *tdec) byte() (byte, error) {
	if d.pos >= len(d.buf) {
		return 0, d.fail("truncated")
	}
	b := d.buf[d.pos]
	d.pos++
	return b, nil
}

func (d *tdec) varint() (uint64, error) {
	v, n := binary.Uvarint(d.buf[d.pos:])
	if n <= 0 {
		return 0, d.fail("bad varint")
	}
	d.pos += n
	return v, nil
}

func (d *tdec) zigzag() (int64, error) {
	u, err := d.varint()
	return int64(u>>1) ^ -int64(u&1), err
}

func (d *tdec) i32() (int32, error) {
	v, err := d.zigzag()
	if err == nil && (v > math.MaxInt32 || v < math.MinInt32) {
		return 0, d.fail("i32 out of range")
	}
	return int32(v), err
}

func (d *tdec) bytes() ([]byte, error) {
	n, err := d.varint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.buf)-d.pos) {
		return nil, d.fail("binary longer than the data")
	}
	b := d.buf[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return b, nil
}

// listHeader reads a list or set header: its element type and size.
func (d *tdec) listHeader() (byte, int, error) {
	b, err := d.byte()
	if err != nil {
		return 0, 0, err
	}
	n := uint64(b >> 4)
	if n == 15 {
		if n, err = d.varint(); err != nil {
			return 0, 0, err
		}
	}
	// Every element takes at least a byte, except booleans in a list,
	// which take one each too.
	if n > uint64(len(d.buf)-d.pos) {
		return 0, 0, d.fail("list longer than the data")
	}
	return b & 0x0f, int(n), nil
}

// structFields reads a struct, calling f with each field's id and type;
// f reads the value or returns skip to have it skipped.
func (d *tdec) structFields(f func(id int16, typ byte) error) error {
	if d.depth++; d.depth > maxThriftDepth {
		return d.fail("nested too deep")
	}
	defer func() { d.depth-- }()
	var last int16
	for {
		b, err := d.byte()
		if err != nil {
			return err
		}
		typ := b & 0x0f
		if typ == tStop {
			return nil
		}
		id := last + int16(b>>4)
		if b>>4 == 0 {
			v, err := d.zigzag()
			if err != nil {
				return err
			}
			if v > math.MaxInt16 || v < math.MinInt16 {
				return d.fail("field id out of range")
			}
			id = int16(v)
		}
		last = id
		if err := f(id, typ); errors.Is(err, errSkip) {
			err = d.skip(typ)
			if err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
	}
}

// errSkip asks structFields to skip a field.
var errSkip = errors.New("skip")

// skip reads past a value of type typ.
func (d *tdec) skip(typ byte) error {
	switch typ {
	case tTrue, tFalse:
		return nil
	case tByte:
		_, err := d.byte()
		return err
	case tI16, tI32, tI64:
		_, err := d.varint()
		return err
	case tDouble:
		if len(d.buf)-d.pos < 8 {
			return d.fail("truncated double")
		}
		d.pos += 8
		return nil
	case tBinary:
		_, err := d.bytes()
		return err
	case tList, tSet:
		elem, n, err := d.listHeader()
		if err != nil {
			return err
		}
		return d.skipN(elem, n)
	case tMap:
		n, err := d.varint()
		if err != nil || n == 0 {
			return err
		}
		if n > uint64(len(d.buf)-d.pos) {
			return d.fail("map longer than the data")
		}
		kv, err := d.byte()
		if err != nil {
			return err
		}
		for range n {
			if err := d.skipN(kv>>4, 1); err != nil {
				return err
			}
			if err := d.skipN(kv&0x0f, 1); err != nil {
				return err
			}
		}
		return nil
	case tStruct:
		return d.structFields(func(int16, byte) error { return errSkip })
	}
	return d.fail(fmt.Sprintf("unknown type %d", typ))
}

func (d *tdec) skipN(elem byte, n int) error {
	if d.depth++; d.depth > maxThriftDepth {
		return d.fail("nested too deep")
	}
	defer func() { d.depth-- }()
	for range n {
		if elem == tTrue || elem == tFalse {
			// A boolean element is a byte.
			if _, err := d.byte(); err != nil {
				return err
			}
			continue
		}
		if err := d.skip(elem); err != nil {
			return err
		}
	}
	return nil
}

// want checks a field's type.
func (d *tdec) want(typ, got byte) error {
	if typ != got && !(typ == tTrue && got == tFalse) {
		return d.fail(fmt.Sprintf("field of type %d, want %d", got, typ))
	}
	return nil
}

// readI32 reads an i32 field of type typ into v.
func (d *tdec) readI32(typ byte, v *int32) error {
	if err := d.want(tI32, typ); err != nil {
		return err
	}
	x, err := d.i32()
	*v = x
	return err
}

// readI64 reads an i64 field of type typ into v.
func (d *tdec) readI64(typ byte, v *int64) error {
	if err := d.want(tI64, typ); err != nil {
		return err
	}
	x, err := d.zigzag()
	*v = x
	return err
}

// readBool reads a bool field of type typ into v.
func (d *tdec) readBool(typ byte, v *bool) error {
	if err := d.want(tTrue, typ); err != nil {
		return err
	}
	*v = typ == tTrue
	return nil
}

// readString reads a binary field of type typ into v.
func (d *tdec) readString(typ byte, v *string) error {
	if err := d.want(tBinary, typ); err != nil {
		return err
	}
	b, err := d.bytes()
	*v = string(b)
	return err
}

// readStruct reads a struct field of type typ, calling f for each of its
// fields as structFields does.
func (d *tdec) readStruct(typ byte, f func(id int16, typ byte) error) error {
	if err := d.want(tStruct, typ); err != nil {
		return err
	}
	return d.structFields(f)
}

// readI32s reads a struct field of type typ whose fields of interest are
// i32s, into ints[id], and bools, into bools[id]; it skips the others.
func (d *tdec) readI32s(typ byte, ints []*int32, bools map[int16]*bool) error {
	return d.readStruct(typ, func(id int16, typ byte) error {
		if id >= 0 && int(id) < len(ints) && ints[id] != nil {
			return d.readI32(typ, ints[id])
		}
		if b, ok := bools[id]; ok {
			return d.readBool(typ, b)
		}
		return errSkip
	})
}

// readList reads a list field of type typ with elements of type elem,
// calling f for each.
func (d *tdec) readList(typ, elem byte, f func() error) error {
	if err := d.want(tList, typ); err != nil {
		return err
	}
	et, n, err := d.listHeader()
	if err != nil {
		return err
	}
	if n > 0 && et != elem {
		return d.fail(fmt.Sprintf("list of type %d, want %d", et, elem))
	}
	for range n {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}
