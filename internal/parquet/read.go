package parquet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// File is a Parquet file open for reading.
type File struct {
	r      io.ReaderAt
	size   int64
	meta   *fileMeta
	cols   []Column
	maxDef []int // each column's maximum definition level
}

// maxFooter bounds the footer the reader accepts.
const maxFooter = 64 << 20

// maxRowGroupRows bounds the rows of a row group the reader accepts, so
// that a corrupt footer cannot make it decode without bound (podium writes
// row groups of up to 2^20 rows).
const maxRowGroupRows = 1 << 24

// Open reads the footer of the Parquet file r of size bytes.
func Open(r io.ReaderAt, size int64) (*File, error) {
	if size < 12 {
		return nil, fmt.Errorf("parquet: a file of %d bytes is too short", size)
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return nil, fmt.Errorf("parquet: read the footer: %w", err)
	}
	if string(tail[4:]) != magic {
		if string(tail[4:]) == "PARE" {
			return nil, fmt.Errorf("parquet: an encrypted footer: %w", ErrUnsupported)
		}
		return nil, errors.New("parquet: not a Parquet file (no PAR1 at its end)")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 || n > maxFooter {
		return nil, fmt.Errorf("parquet: a footer of %d bytes in a file of %d", n, size)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-8-n); err != nil {
		return nil, fmt.Errorf("parquet: read the footer: %w", err)
	}
	meta, err := decodeFileMeta(buf)
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	f := &File{r: r, size: size, meta: meta}
	if err := f.columns(); err != nil {
		return nil, fmt.Errorf("parquet: schema: %w", err)
	}
	for g, rg := range meta.rowGroups {
		if len(rg.columns) != len(f.cols) {
			return nil, fmt.Errorf("parquet: row group %d has %d column chunks, the schema %d columns", g, len(rg.columns), len(f.cols))
		}
		if rg.numRows < 0 || rg.numRows > maxRowGroupRows {
			return nil, fmt.Errorf("parquet: row group %d has %d rows, more than the reader takes (%d)", g, rg.numRows, maxRowGroupRows)
		}
	}
	return f, nil
}

// columns walks the flattened schema tree and lists its leaf columns.
func (f *File) columns() error {
	s := f.meta.schema
	if len(s) == 0 {
		return errors.New("no schema")
	}
	pos := 1
	var walk func(children int, depth, def int, nested bool) error
	walk = func(children int, depth, def int, nested bool) error {
		if depth > 64 {
			return errors.New("nested too deep")
		}
		for range children {
			if pos >= len(s) {
				return errors.New("fewer elements than the groups' children")
			}
			e := s[pos]
			pos++
			d := def
			if e.repetition == repOptional || e.repetition == repRepeated {
				d++
			}
			isNested := nested || e.repetition == repRepeated
			if e.typ < 0 || e.numChildren > 0 {
				if e.numChildren < 0 {
					return fmt.Errorf("group %s has %d children", e.name, e.numChildren)
				}
				if err := walk(int(e.numChildren), depth+1, d, true); err != nil {
					return err
				}
				continue
			}
			c := Column{Name: e.name, FieldID: -1, Type: Type(e.typ), Length: int(e.typeLength),
				Required: e.repetition == repRequired, Nested: isNested, Logical: e.logicalOf()}
			if e.fieldID >= 0 {
				c.FieldID = int(e.fieldID)
			}
			f.cols = append(f.cols, c)
			f.maxDef = append(f.maxDef, d)
		}
		return nil
	}
	if s[0].numChildren < 0 {
		return fmt.Errorf("the root has %d children", s[0].numChildren)
	}
	if err := walk(int(s[0].numChildren), 0, 0, false); err != nil {
		return err
	}
	if pos != len(s) {
		return fmt.Errorf("%d schema elements, the groups hold %d", len(s), pos)
	}
	return nil
}

// logicalOf returns the logical type of a leaf, from its LogicalType or
// else its converted type.
func (e schemaElement) logicalOf() Logical {
	switch e.logical.kind {
	case 0:
	case logString:
		return Logical{Kind: String}
	case logDecimal:
		return Logical{Kind: Decimal, Precision: int(e.logical.precision), Scale: int(e.logical.scale)}
	case logTimestamp:
		l := Logical{Kind: Timestamp, UTC: e.logical.utc}
		switch e.logical.unit {
		case unitMillis:
			l.Unit = Millis
		case unitNanos:
			l.Unit = Nanos
		}
		return l
	default:
		return Logical{Kind: OtherLogical}
	}
	switch e.convertedType {
	case -1:
		return Logical{}
	case convUTF8:
		return Logical{Kind: String}
	case convDecimal:
		return Logical{Kind: Decimal, Precision: int(e.precision), Scale: int(e.scale)}
	case convTimestampMillis:
		return Logical{Kind: Timestamp, Unit: Millis, UTC: true}
	case convTimestampMicros:
		return Logical{Kind: Timestamp, Unit: Micros, UTC: true}
	}
	return Logical{Kind: OtherLogical}
}

// Columns returns the file's leaf columns, in order.
func (f *File) Columns() []Column { return f.cols }

// NumRowGroups returns the number of row groups.
func (f *File) NumRowGroups() int { return len(f.meta.rowGroups) }

// NumRows returns the number of rows of the file.
func (f *File) NumRows() int64 { return f.meta.numRows }

// RowGroupRows returns the number of rows of row group g.
func (f *File) RowGroupRows(g int) int { return int(f.meta.rowGroups[g].numRows) }

// ReadColumn reads column c of row group g.
func (f *File) ReadColumn(g, c int) (Values, error) {
	col := f.cols[c]
	rows := int(f.meta.rowGroups[g].numRows)
	v, err := f.readColumn(g, c, rows)
	if err != nil {
		return Values{}, fmt.Errorf("parquet: column %s of row group %d: %w", col.Name, g, err)
	}
	return v, nil
}

// chunkReader holds the state of reading one column chunk.
type chunkReader struct {
	col     Column
	maxDef  int
	codec   Codec
	dict    Values
	hasDict bool
	out     Values
	idx     []uint32 // reused
}

func (f *File) readColumn(g, c, rows int) (Values, error) {
	col := f.cols[c]
	if col.Nested {
		return Values{}, fmt.Errorf("a nested column: %w", ErrUnsupported)
	}
	switch col.Type {
	case Boolean, Int32, Int64, Float, Double, ByteArray, FixedLenByteArray:
	default:
		return Values{}, fmt.Errorf("%s values: %w", col.Type, ErrUnsupported)
	}
	if col.Type == FixedLenByteArray && col.Length <= 0 {
		return Values{}, fmt.Errorf("a fixed-length byte array of length %d", col.Length)
	}
	cc := f.meta.rowGroups[g].columns[c]
	if !cc.hasMeta {
		return Values{}, fmt.Errorf("no column metadata (in another file?): %w", ErrUnsupported)
	}
	m := cc.meta
	if Type(m.typ) != col.Type {
		return Values{}, fmt.Errorf("the chunk is %s, the schema says %s", Type(m.typ), col.Type)
	}
	start := m.dataPageOffset
	if m.dictPageOffset > 0 && m.dictPageOffset < start {
		start = m.dictPageOffset
	}
	if start < 4 || m.totalCompressed < 0 || m.totalCompressed > f.size-start {
		return Values{}, fmt.Errorf("a chunk of %d bytes at %d in a file of %d", m.totalCompressed, start, f.size)
	}
	buf := make([]byte, m.totalCompressed)
	if _, err := f.r.ReadAt(buf, start); err != nil {
		return Values{}, fmt.Errorf("read: %w", err)
	}
	cr := &chunkReader{col: col, maxDef: f.maxDef[c], codec: Codec(m.codec), out: Values{Rows: rows}}
	if cr.maxDef > 0 {
		cr.out.Defined = []bool{}
	}
	read := 0 // rows read
	for read < rows {
		if len(buf) == 0 {
			return Values{}, fmt.Errorf("the chunk ends after %d of %d rows", read, rows)
		}
		h, n, err := decodePageHeader(buf)
		if err != nil {
			return Values{}, err
		}
		buf = buf[n:]
		if h.compressed < 0 || int(h.compressed) > len(buf) {
			return Values{}, fmt.Errorf("a page of %d bytes, %d left in the chunk", h.compressed, len(buf))
		}
		body := buf[:h.compressed]
		buf = buf[h.compressed:]
		switch h.typ {
		case pageDictionary:
			if err := cr.dictionary(h, body); err != nil {
				return Values{}, fmt.Errorf("dictionary page: %w", err)
			}
		case pageData, pageDataV2:
			if int(h.numValues) > rows-read || h.numValues < 0 {
				return Values{}, fmt.Errorf("a page of %d values, %d rows left", h.numValues, rows-read)
			}
			if err := cr.data(h, body); err != nil {
				return Values{}, fmt.Errorf("data page at row %d: %w", read, err)
			}
			read += int(h.numValues)
		case pageIndex:
		default:
			return Values{}, fmt.Errorf("page type %d: %w", h.typ, ErrUnsupported)
		}
	}
	return cr.out, nil
}

func (cr *chunkReader) dictionary(h pageHeader, body []byte) error {
	if cr.hasDict {
		return errors.New("a second dictionary page")
	}
	if h.encoding != encPlain && h.encoding != encPlainDictionary {
		return fmt.Errorf("encoding %d: %w", h.encoding, ErrUnsupported)
	}
	b, err := decompress(cr.codec, body, int(h.uncompressed))
	if err != nil {
		return err
	}
	if h.numValues < 0 || int(h.numValues) > len(b)*8 {
		return fmt.Errorf("%d values in %d bytes", h.numValues, len(b))
	}
	cr.dict = Values{}
	if err := cr.plain(&cr.dict, b, int(h.numValues)); err != nil {
		return err
	}
	cr.hasDict = true
	return nil
}

func (cr *chunkReader) data(h pageHeader, body []byte) error {
	n := int(h.numValues)
	var levels, values []byte
	if h.typ == pageData {
		b, err := decompress(cr.codec, body, int(h.uncompressed))
		if err != nil {
			return err
		}
		if cr.maxDef > 0 {
			if h.defEncoding != encRLE {
				return fmt.Errorf("definition levels in encoding %d: %w", h.defEncoding, ErrUnsupported)
			}
			if len(b) < 4 {
				return errors.New("truncated definition levels")
			}
			l := binary.LittleEndian.Uint32(b)
			if uint64(l) > uint64(len(b)-4) {
				return fmt.Errorf("definition levels of %d bytes in a page of %d", l, len(b))
			}
			levels, values = b[4:4+l], b[4+l:]
		} else {
			values = b
		}
	} else {
		if h.repLen != 0 {
			return fmt.Errorf("repetition levels: %w", ErrUnsupported)
		}
		if h.defLen < 0 || int(h.defLen) > len(body) {
			return fmt.Errorf("definition levels of %d bytes in a page of %d", h.defLen, len(body))
		}
		levels, body = body[:h.defLen], body[h.defLen:]
		values = body
		if h.isCompressed {
			var err error
			if values, err = decompress(cr.codec, body, int(h.uncompressed)-int(h.defLen)); err != nil {
				return err
			}
		}
	}
	present := n
	if cr.maxDef > 0 {
		defs, err := decodeRLE(levels, bitWidth(cr.maxDef), n, cr.idx)
		if err != nil {
			return fmt.Errorf("definition levels: %w", err)
		}
		present = 0
		for _, d := range defs {
			if int(d) > cr.maxDef {
				return fmt.Errorf("definition level %d above the column's %d", d, cr.maxDef)
			}
			ok := int(d) == cr.maxDef
			if ok {
				present++
			}
			cr.out.Defined = append(cr.out.Defined, ok)
		}
		cr.idx = defs
	}
	switch h.encoding {
	case encPlain:
		return cr.plain(&cr.out, values, present)
	case encPlainDictionary, encRLEDictionary:
		if !cr.hasDict {
			return errors.New("dictionary-encoded values without a dictionary page")
		}
		if present == 0 {
			return nil
		}
		if len(values) < 1 {
			return errors.New("truncated dictionary indices")
		}
		idx, err := decodeRLE(values[1:], int(values[0]), present, cr.idx)
		if err != nil {
			return fmt.Errorf("dictionary indices: %w", err)
		}
		cr.idx = idx
		return cr.lookup(idx)
	case encRLE:
		if cr.col.Type != Boolean {
			return fmt.Errorf("RLE %s values: %w", cr.col.Type, ErrUnsupported)
		}
		if h.typ == pageData { // v1 prefixes the runs with their length
			if len(values) < 4 {
				return errors.New("truncated RLE booleans")
			}
			values = values[4:]
		}
		bs, err := decodeRLE(values, 1, present, cr.idx)
		if err != nil {
			return fmt.Errorf("RLE booleans: %w", err)
		}
		cr.idx = bs
		for _, x := range bs {
			cr.out.Bool = append(cr.out.Bool, x == 1)
		}
		return nil
	case encDeltaInts:
		if cr.col.Type != Int32 && cr.col.Type != Int64 {
			break
		}
		xs, _, err := decodeDeltaInts(values, present)
		if err != nil {
			return err
		}
		for _, x := range xs {
			if cr.col.Type == Int32 {
				cr.out.Int32 = append(cr.out.Int32, int32(x))
			} else {
				cr.out.Int64 = append(cr.out.Int64, x)
			}
		}
		return nil
	case encDeltaLengths, encDeltaStrings:
		if cr.col.Type != ByteArray && cr.col.Type != FixedLenByteArray {
			break
		}
		var bs [][]byte
		var err error
		if h.encoding == encDeltaLengths {
			bs, _, err = decodeDeltaLengths(values, present)
		} else {
			bs, err = decodeDeltaStrings(values, present)
		}
		if err != nil {
			return err
		}
		if cr.col.Type == FixedLenByteArray {
			for _, x := range bs {
				if len(x) != cr.col.Length {
					return fmt.Errorf("a value of %d bytes in a column of %d", len(x), cr.col.Length)
				}
			}
		}
		cr.out.Bytes = append(cr.out.Bytes, bs...)
		return nil
	case encByteStreamSplit:
		width := map[Type]int{Int32: 4, Int64: 8, Float: 4, Double: 8, FixedLenByteArray: cr.col.Length}[cr.col.Type]
		if width == 0 {
			break
		}
		b, err := unsplit(values, present, width)
		if err != nil {
			return fmt.Errorf("byte stream split: %w", err)
		}
		return cr.plain(&cr.out, b, present)
	}
	return fmt.Errorf("%s values in encoding %d: %w", cr.col.Type, h.encoding, ErrUnsupported)
}

// plain appends n PLAIN values of b to v.
func (cr *chunkReader) plain(v *Values, b []byte, n int) error {
	short := func() error { return fmt.Errorf("%d %s values in %d bytes", n, cr.col.Type, len(b)) }
	switch cr.col.Type {
	case Boolean:
		if len(b)*8 < n {
			return short()
		}
		for i := range n {
			v.Bool = append(v.Bool, b[i/8]>>(i%8)&1 == 1)
		}
	case Int32:
		if len(b) < 4*n {
			return short()
		}
		for i := range n {
			v.Int32 = append(v.Int32, int32(binary.LittleEndian.Uint32(b[4*i:])))
		}
	case Int64:
		if len(b) < 8*n {
			return short()
		}
		for i := range n {
			v.Int64 = append(v.Int64, int64(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case Float:
		if len(b) < 4*n {
			return short()
		}
		for i := range n {
			v.Float = append(v.Float, math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		}
	case Double:
		if len(b) < 8*n {
			return short()
		}
		for i := range n {
			v.Double = append(v.Double, math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case ByteArray:
		for range n {
			if len(b) < 4 {
				return short()
			}
			l := binary.LittleEndian.Uint32(b)
			if uint64(l) > uint64(len(b)-4) {
				return short()
			}
			v.Bytes = append(v.Bytes, b[4:4+l:4+l])
			b = b[4+l:]
		}
	case FixedLenByteArray:
		l := cr.col.Length
		if len(b)/l < n {
			return short()
		}
		for i := range n {
			v.Bytes = append(v.Bytes, b[i*l:(i+1)*l:(i+1)*l])
		}
	}
	return nil
}

// lookup appends the dictionary's values at idx.
func (cr *chunkReader) lookup(idx []uint32) error {
	d := &cr.dict
	size := d.count(cr.col.Type)
	for _, i := range idx {
		if int(i) >= size {
			return fmt.Errorf("dictionary index %d of %d values", i, size)
		}
	}
	o := &cr.out
	for _, i := range idx {
		switch cr.col.Type {
		case Boolean:
			o.Bool = append(o.Bool, d.Bool[i])
		case Int32:
			o.Int32 = append(o.Int32, d.Int32[i])
		case Int64:
			o.Int64 = append(o.Int64, d.Int64[i])
		case Float:
			o.Float = append(o.Float, d.Float[i])
		case Double:
			o.Double = append(o.Double, d.Double[i])
		default:
			o.Bytes = append(o.Bytes, d.Bytes[i])
		}
	}
	return nil
}
