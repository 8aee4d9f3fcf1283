package parquet

import "fmt"

// The structs of parquet.thrift the codec writes and reads
// (https://github.com/apache/parquet-format/blob/master/src/main/thrift/parquet.thrift),
// with the fields it uses; the reader skips the others.

// Repetition types.
const (
	repRequired = 0
	repOptional = 1
	repRepeated = 2
)

// Converted types (the legacy annotations, written beside the logical
// types for older readers).
const (
	convUTF8            = 0
	convDecimal         = 5
	convTimestampMillis = 9
	convTimestampMicros = 10
)

// Encodings.
const (
	encPlain           = 0
	encPlainDictionary = 2
	encRLE             = 3
	encBitPacked       = 4
	encDeltaInts       = 5 // DELTA_BINARY_PACKED
	encDeltaLengths    = 6 // DELTA_LENGTH_BYTE_ARRAY
	encDeltaStrings    = 7 // DELTA_BYTE_ARRAY
	encRLEDictionary   = 8
	encByteStreamSplit = 9
)

// Page types.
const (
	pageData       = 0
	pageIndex      = 1
	pageDictionary = 2
	pageDataV2     = 3
)

// Codec is a compression codec of Parquet pages.
type Codec int32

// Codecs.
const (
	Uncompressed Codec = 0
	Snappy       Codec = 1
	Gzip         Codec = 2
	Zstd         Codec = 6
	LZ4Raw       Codec = 7
)

type fileMeta struct {
	version   int32
	schema    []schemaElement
	numRows   int64
	rowGroups []rowGroup
	createdBy string
}

type schemaElement struct {
	typ           int32 // -1: a group
	typeLength    int32
	repetition    int32 // -1: not set (the root)
	name          string
	numChildren   int32
	convertedType int32 // -1: none
	scale         int32
	precision     int32
	fieldID       int32 // -1: none
	logical       logicalType
}

// logicalType is the LogicalType union, as far as the codec knows it.
type logicalType struct {
	kind      int16 // the union's field: 0 none, logString, logDecimal, logTimestamp, or another
	scale     int32
	precision int32
	utc       bool
	unit      int16 // unitMillis, unitMicros, unitNanos
}

// LogicalType union fields.
const (
	logString    = 1
	logDecimal   = 5
	logTimestamp = 8
)

// TimeUnit union fields.
const (
	unitMillis = 1
	unitMicros = 2
	unitNanos  = 3
)

type rowGroup struct {
	columns             []columnChunk
	totalByteSize       int64
	numRows             int64
	fileOffset          int64
	totalCompressedSize int64
	ordinal             int16
}

type columnChunk struct {
	fileOffset int64
	meta       columnMeta
	hasMeta    bool
}

type columnMeta struct {
	typ               int32
	encodings         []int32
	path              []string
	codec             int32
	numValues         int64
	totalUncompressed int64
	totalCompressed   int64
	dataPageOffset    int64
	dictPageOffset    int64 // 0: none
	nullCount         int64 // -1: unknown
}

type pageHeader struct {
	typ          int32
	uncompressed int32
	compressed   int32
	// Data page (v1 and v2) and dictionary page.
	numValues   int32
	encoding    int32
	defEncoding int32 // v1
	// Data page v2.
	numNulls     int32
	numRows      int32
	defLen       int32
	repLen       int32
	isCompressed bool
}

// encode appends the file metadata in the compact protocol.
func (m *fileMeta) encode(e *tenc) {
	e.begin()
	e.i32(1, m.version)
	e.list(2, tStruct, len(m.schema))
	for _, s := range m.schema {
		s.encode(e)
	}
	e.i64(3, m.numRows)
	e.list(4, tStruct, len(m.rowGroups))
	for _, rg := range m.rowGroups {
		rg.encode(e)
	}
	if m.createdBy != "" {
		e.binary(6, []byte(m.createdBy))
	}
	e.end()
}

func (s *schemaElement) encode(e *tenc) {
	e.begin()
	if s.typ >= 0 {
		e.i32(1, s.typ)
	}
	if s.typeLength > 0 {
		e.i32(2, s.typeLength)
	}
	if s.repetition >= 0 {
		e.i32(3, s.repetition)
	}
	e.binary(4, []byte(s.name))
	if s.typ < 0 {
		e.i32(5, s.numChildren)
	}
	if s.convertedType >= 0 {
		e.i32(6, s.convertedType)
	}
	if s.logical.kind == logDecimal {
		e.i32(7, s.scale)
		e.i32(8, s.precision)
	}
	if s.fieldID >= 0 {
		e.i32(9, s.fieldID)
	}
	if l := s.logical; l.kind != 0 {
		e.structField(10)
		e.structField(l.kind)
		switch l.kind {
		case logDecimal:
			e.i32(1, l.scale)
			e.i32(2, l.precision)
		case logTimestamp:
			e.bool(1, l.utc)
			e.structField(2)
			e.structField(l.unit)
			e.end()
			e.end()
		}
		e.end()
		e.end()
	}
	e.end()
}

func (rg *rowGroup) encode(e *tenc) {
	e.begin()
	e.list(1, tStruct, len(rg.columns))
	for _, c := range rg.columns {
		e.begin()
		e.i64(2, c.fileOffset)
		e.structField(3)
		c.meta.encode(e)
		e.end() // ColumnMetaData
		e.end() // ColumnChunk
	}
	e.i64(2, rg.totalByteSize)
	e.i64(3, rg.numRows)
	e.i64(5, rg.fileOffset)
	e.i64(6, rg.totalCompressedSize)
	e.field(7, tI16)
	e.zigzag(int64(rg.ordinal))
	e.end()
}

// encode appends the fields of a ColumnMetaData whose struct is open.
func (m *columnMeta) encode(e *tenc) {
	e.i32(1, m.typ)
	e.list(2, tI32, len(m.encodings))
	for _, x := range m.encodings {
		e.zigzag(int64(x))
	}
	e.list(3, tBinary, len(m.path))
	for _, p := range m.path {
		e.bytes([]byte(p))
	}
	e.i32(4, m.codec)
	e.i64(5, m.numValues)
	e.i64(6, m.totalUncompressed)
	e.i64(7, m.totalCompressed)
	e.i64(9, m.dataPageOffset)
	if m.nullCount >= 0 {
		e.structField(12)
		e.i64(3, m.nullCount)
		e.end()
	}
}

// encode appends a data page (v1) header.
func (h *pageHeader) encode(e *tenc) {
	e.begin()
	e.i32(1, h.typ)
	e.i32(2, h.uncompressed)
	e.i32(3, h.compressed)
	e.structField(5)
	e.i32(1, h.numValues)
	e.i32(2, h.encoding)
	e.i32(3, h.defEncoding)
	e.i32(4, encRLE)
	e.end()
	e.end()
}

func decodeFileMeta(b []byte) (*fileMeta, error) {
	d := &tdec{buf: b}
	m := &fileMeta{}
	err := d.structFields(func(id int16, typ byte) error {
		switch id {
		case 1:
			return d.readI32(typ, &m.version)
		case 2:
			return d.readList(typ, tStruct, func() error {
				s, err := decodeSchemaElement(d)
				m.schema = append(m.schema, s)
				return err
			})
		case 3:
			return d.readI64(typ, &m.numRows)
		case 4:
			return d.readList(typ, tStruct, func() error {
				rg, err := decodeRowGroup(d)
				m.rowGroups = append(m.rowGroups, rg)
				return err
			})
		case 6:
			return d.readString(typ, &m.createdBy)
		}
		return errSkip
	})
	if err != nil {
		return nil, fmt.Errorf("file metadata: %w", err)
	}
	return m, nil
}

func decodeSchemaElement(d *tdec) (schemaElement, error) {
	s := schemaElement{typ: -1, repetition: -1, convertedType: -1, fieldID: -1}
	err := d.structFields(func(id int16, typ byte) error {
		switch id {
		case 1:
			return d.readI32(typ, &s.typ)
		case 2:
			return d.readI32(typ, &s.typeLength)
		case 3:
			return d.readI32(typ, &s.repetition)
		case 4:
			return d.readString(typ, &s.name)
		case 5:
			return d.readI32(typ, &s.numChildren)
		case 6:
			return d.readI32(typ, &s.convertedType)
		case 7:
			return d.readI32(typ, &s.scale)
		case 8:
			return d.readI32(typ, &s.precision)
		case 9:
			return d.readI32(typ, &s.fieldID)
		case 10:
			return d.readStruct(typ, func(kind int16, typ byte) error {
				s.logical.kind = kind
				if err := d.want(tStruct, typ); err != nil {
					return err
				}
				switch kind {
				case logDecimal:
					return d.structFields(func(id int16, typ byte) error {
						switch id {
						case 1:
							return d.readI32(typ, &s.logical.scale)
						case 2:
							return d.readI32(typ, &s.logical.precision)
						}
						return errSkip
					})
				case logTimestamp:
					return d.structFields(func(id int16, typ byte) error {
						switch id {
						case 1:
							return d.readBool(typ, &s.logical.utc)
						case 2:
							return d.readStruct(typ, func(unit int16, typ byte) error {
								s.logical.unit = unit
								return errSkip
							})
						}
						return errSkip
					})
				}
				return errSkip
			})
		}
		return errSkip
	})
	return s, err
}

func decodeRowGroup(d *tdec) (rowGroup, error) {
	var rg rowGroup
	err := d.structFields(func(id int16, typ byte) error {
		switch id {
		case 1:
			return d.readList(typ, tStruct, func() error {
				var c columnChunk
				err := d.structFields(func(id int16, typ byte) error {
					switch id {
					case 2:
						return d.readI64(typ, &c.fileOffset)
					case 3:
						if err := d.want(tStruct, typ); err != nil {
							return err
						}
						c.hasMeta = true
						return decodeColumnMeta(d, &c.meta)
					}
					return errSkip
				})
				rg.columns = append(rg.columns, c)
				return err
			})
		case 2:
			return d.readI64(typ, &rg.totalByteSize)
		case 3:
			return d.readI64(typ, &rg.numRows)
		}
		return errSkip
	})
	return rg, err
}

func decodeColumnMeta(d *tdec, m *columnMeta) error {
	m.nullCount = -1
	return d.structFields(func(id int16, typ byte) error {
		switch id {
		case 1:
			return d.readI32(typ, &m.typ)
		case 2:
			return d.readList(typ, tI32, func() error {
				x, err := d.i32()
				m.encodings = append(m.encodings, x)
				return err
			})
		case 3:
			return d.readList(typ, tBinary, func() error {
				b, err := d.bytes()
				m.path = append(m.path, string(b))
				return err
			})
		case 4:
			return d.readI32(typ, &m.codec)
		case 5:
			return d.readI64(typ, &m.numValues)
		case 6:
			return d.readI64(typ, &m.totalUncompressed)
		case 7:
			return d.readI64(typ, &m.totalCompressed)
		case 9:
			return d.readI64(typ, &m.dataPageOffset)
		case 11:
			return d.readI64(typ, &m.dictPageOffset)
		}
		return errSkip
	})
}

// decodePageHeader reads a page header from the start of b and returns it
// with its length.
func decodePageHeader(b []byte) (pageHeader, int, error) {
	d := &tdec{buf: b}
	h := pageHeader{isCompressed: true}
	err := d.structFields(func(id int16, typ byte) error {
		switch id {
		case 1:
			return d.readI32(typ, &h.typ)
		case 2:
			return d.readI32(typ, &h.uncompressed)
		case 3:
			return d.readI32(typ, &h.compressed)
		case 5: // DataPageHeader
			return d.readI32s(typ, []*int32{1: &h.numValues, 2: &h.encoding, 3: &h.defEncoding}, nil)
		case 7: // DictionaryPageHeader
			return d.readI32s(typ, []*int32{1: &h.numValues, 2: &h.encoding}, nil)
		case 8: // DataPageHeaderV2
			return d.readI32s(typ, []*int32{1: &h.numValues, 2: &h.numNulls, 3: &h.numRows, 4: &h.encoding, 5: &h.defLen, 6: &h.repLen},
				map[int16]*bool{7: &h.isCompressed})
		}
		return errSkip
	})
	if err != nil {
		return h, 0, fmt.Errorf("page header: %w", err)
	}
	return h, d.pos, nil
}
