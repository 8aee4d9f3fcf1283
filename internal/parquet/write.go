package parquet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// pageSize is the uncompressed size of values past which a column chunk
// goes on to a new page: 1 MiB, as Arrow's and parquet-mr's writers do;
// pageRows caps the rows of a page, as parquet-mr's page.row.count.limit
// does (a mostly null column would otherwise put a whole row group in one
// page).
const (
	pageSize = 1 << 20
	pageRows = 20_000
)

const magic = "PAR1"

// Writer writes a Parquet file: NewWriter, WriteRowGroup for each row
// group, Close.
type Writer struct {
	w      io.Writer
	off    int64
	cols   []Column
	meta   fileMeta
	err    error
	body   []byte // a page's values, reused
	packed []byte // a page compressed, reused
	head   tenc
}

// ChunkInfo is where a column chunk lies in the file.
type ChunkInfo struct {
	// Offset is the chunk's first byte (its first page's header).
	Offset int64
	// Size is the chunk's length in the file, page headers included.
	Size int64
}

// NewWriter writes the start of a file of cols to w, which it does not
// close. createdBy names the writer in the footer.
func NewWriter(w io.Writer, cols []Column, createdBy string) (*Writer, error) {
	pw := &Writer{w: w, cols: cols, meta: fileMeta{version: 1, createdBy: createdBy}}
	pw.meta.schema = append(pw.meta.schema, schemaElement{typ: -1, repetition: -1, name: "table", numChildren: int32(len(cols)),
		convertedType: -1, fieldID: -1})
	for _, c := range cols {
		s, err := c.element()
		if err != nil {
			return nil, err
		}
		pw.meta.schema = append(pw.meta.schema, s)
	}
	pw.write([]byte(magic))
	return pw, pw.err
}

// element returns c's schema element.
func (c Column) element() (schemaElement, error) {
	s := schemaElement{typ: int32(c.Type), repetition: repOptional, name: c.Name, convertedType: -1, fieldID: -1}
	if c.Name == "" {
		return s, errors.New("parquet: a column without a name")
	}
	if c.Required {
		s.repetition = repRequired
	}
	if c.FieldID >= 0 {
		s.fieldID = int32(c.FieldID)
	}
	switch c.Type {
	case Boolean, Int32, Int64, Float, Double, ByteArray:
	case FixedLenByteArray:
		if c.Length <= 0 {
			return s, fmt.Errorf("parquet: column %s: a fixed-length byte array of length %d", c.Name, c.Length)
		}
		s.typeLength = int32(c.Length)
	default:
		return s, fmt.Errorf("parquet: column %s: writing %s: %w", c.Name, c.Type, ErrUnsupported)
	}
	switch l := c.Logical; l.Kind {
	case NoLogical:
	case String:
		if c.Type != ByteArray {
			return s, fmt.Errorf("parquet: column %s: a string stored as %s", c.Name, c.Type)
		}
		s.logical.kind, s.convertedType = logString, convUTF8
	case Decimal:
		if c.Type != Int32 && c.Type != Int64 {
			return s, fmt.Errorf("parquet: column %s: writing a decimal as %s: %w", c.Name, c.Type, ErrUnsupported)
		}
		s.logical = logicalType{kind: logDecimal, precision: int32(l.Precision), scale: int32(l.Scale)}
		s.convertedType, s.precision, s.scale = convDecimal, int32(l.Precision), int32(l.Scale)
	case Timestamp:
		if c.Type != Int64 {
			return s, fmt.Errorf("parquet: column %s: a timestamp stored as %s", c.Name, c.Type)
		}
		s.logical = logicalType{kind: logTimestamp, utc: l.UTC}
		switch l.Unit {
		case Micros:
			s.logical.unit, s.convertedType = unitMicros, convTimestampMicros
		case Millis:
			s.logical.unit, s.convertedType = unitMillis, convTimestampMillis
		case Nanos:
			s.logical.unit = unitNanos
		}
		if !l.UTC {
			s.convertedType = -1 // the converted types are UTC-adjusted
		}
	default:
		return s, fmt.Errorf("parquet: column %s: writing %s: %w", c.Name, l, ErrUnsupported)
	}
	return s, nil
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	n, err := w.w.Write(b)
	w.off += int64(n)
	if err != nil {
		w.err = fmt.Errorf("parquet: write: %w", err)
	}
}

// WriteRowGroup writes a row group: vals holds each column's values, in
// the order of the columns, each of the same number of rows (at least
// one). It returns where each column chunk lies.
func (w *Writer) WriteRowGroup(vals []Values) ([]ChunkInfo, error) {
	if w.err != nil {
		return nil, w.err
	}
	if len(vals) != len(w.cols) {
		return nil, fmt.Errorf("parquet: a row group of %d columns, the file has %d", len(vals), len(w.cols))
	}
	rows := vals[0].Rows
	if rows < 1 {
		return nil, fmt.Errorf("parquet: a row group of %d rows", rows)
	}
	rg := rowGroup{numRows: int64(rows), fileOffset: w.off, ordinal: int16(len(w.meta.rowGroups))}
	info := make([]ChunkInfo, len(w.cols))
	for i, c := range w.cols {
		v := &vals[i]
		if err := check(c, v, rows); err != nil {
			return nil, err
		}
		cc := w.writeChunk(c, v)
		if w.err != nil {
			return nil, w.err
		}
		rg.columns = append(rg.columns, cc)
		rg.totalByteSize += cc.meta.totalUncompressed
		rg.totalCompressedSize += cc.meta.totalCompressed
		info[i] = ChunkInfo{Offset: cc.meta.dataPageOffset, Size: cc.meta.totalCompressed}
	}
	w.meta.rowGroups = append(w.meta.rowGroups, rg)
	w.meta.numRows += int64(rows)
	return info, nil
}

// check reports values that do not fit column c.
func check(c Column, v *Values, rows int) error {
	if v.Rows != rows {
		return fmt.Errorf("parquet: column %s: %d rows, column 0 has %d", c.Name, v.Rows, rows)
	}
	present := rows
	if v.Defined != nil {
		if len(v.Defined) != rows {
			return fmt.Errorf("parquet: column %s: %d definitions for %d rows", c.Name, len(v.Defined), rows)
		}
		present = 0
		for _, d := range v.Defined {
			if d {
				present++
			}
		}
		if c.Required && present != rows {
			return fmt.Errorf("parquet: column %s: a null in a required column", c.Name)
		}
	}
	if n := v.count(c.Type); n != present {
		return fmt.Errorf("parquet: column %s: %d values for %d rows with one", c.Name, n, present)
	}
	if c.Type == FixedLenByteArray {
		for _, b := range v.Bytes {
			if len(b) != c.Length {
				return fmt.Errorf("parquet: column %s: a value of %d bytes, the column's are %d", c.Name, len(b), c.Length)
			}
		}
	}
	return nil
}

// writeChunk writes the pages of a column chunk.
func (w *Writer) writeChunk(c Column, v *Values) columnChunk {
	m := columnMeta{typ: int32(c.Type), encodings: []int32{encPlain, encRLE}, path: []string{c.Name}, codec: int32(Zstd),
		numValues: int64(v.Rows), dataPageOffset: w.off, nullCount: int64(v.Rows - v.count(c.Type))}
	var levels []uint8
	for r, k := 0, 0; r < v.Rows && w.err == nil; {
		// The rows r..e (values k..kEnd) of this page.
		e, kEnd, size := r, k, 0
		for e < v.Rows && (e == r || size < pageSize && e-r < pageRows) {
			if v.Defined == nil || v.Defined[e] {
				size += valueSize(c.Type, v, kEnd)
				kEnd++
			}
			e++
		}
		w.body = w.body[:0]
		if !c.Required {
			levels = levels[:0]
			for j := r; j < e; j++ {
				if v.Defined == nil || v.Defined[j] {
					levels = append(levels, 1)
				} else {
					levels = append(levels, 0)
				}
			}
			w.body = append(w.body, 0, 0, 0, 0)
			w.body = appendRLE(w.body, levels, 1)
			binary.LittleEndian.PutUint32(w.body, uint32(len(w.body)-4))
		}
		w.body = appendPlain(w.body, c.Type, v, k, kEnd)
		w.packed = compressZstd(w.packed[:0], w.body)
		h := pageHeader{typ: pageData, uncompressed: int32(len(w.body)), compressed: int32(len(w.packed)),
			numValues: int32(e - r), encoding: encPlain, defEncoding: encRLE}
		w.head.buf = w.head.buf[:0]
		h.encode(&w.head)
		m.totalUncompressed += int64(len(w.head.buf) + len(w.body))
		m.totalCompressed += int64(len(w.head.buf) + len(w.packed))
		w.write(w.head.buf)
		w.write(w.packed)
		r, k = e, kEnd
	}
	return columnChunk{fileOffset: m.dataPageOffset, meta: m, hasMeta: true}
}

// valueSize is the PLAIN size of value k of v.
func valueSize(t Type, v *Values, k int) int {
	switch t {
	case Boolean:
		return 1
	case Int32, Float:
		return 4
	case Int64, Double:
		return 8
	case ByteArray:
		return 4 + len(v.Bytes[k])
	}
	return len(v.Bytes[k])
}

// appendPlain appends values k..end of v PLAIN-encoded.
func appendPlain(b []byte, t Type, v *Values, k, end int) []byte {
	switch t {
	case Boolean:
		var acc byte
		for i, x := range v.Bool[k:end] {
			if x {
				acc |= 1 << (i % 8)
			}
			if i%8 == 7 {
				b, acc = append(b, acc), 0
			}
		}
		if (end-k)%8 != 0 {
			b = append(b, acc)
		}
	case Int32:
		for _, x := range v.Int32[k:end] {
			b = binary.LittleEndian.AppendUint32(b, uint32(x))
		}
	case Int64:
		for _, x := range v.Int64[k:end] {
			b = binary.LittleEndian.AppendUint64(b, uint64(x))
		}
	case Float:
		for _, x := range v.Float[k:end] {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	case Double:
		for _, x := range v.Double[k:end] {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
	case ByteArray:
		for _, x := range v.Bytes[k:end] {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(x)))
			b = append(b, x...)
		}
	case FixedLenByteArray:
		for _, x := range v.Bytes[k:end] {
			b = append(b, x...)
		}
	}
	return b
}

// Close writes the footer. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	var e tenc
	w.meta.encode(&e)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(e.buf)))
	e.buf = append(e.buf, magic...)
	w.write(e.buf)
	if w.err == nil {
		w.err = errors.New("parquet: the writer is closed")
		return nil
	}
	return w.err
}
