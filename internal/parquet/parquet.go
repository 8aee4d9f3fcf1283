// Package parquet writes and reads Apache Parquet files
// (https://parquet.apache.org/docs/file-format/) of flat columns: what
// podium's Iceberg tables hold. It implements the part of the format those
// need and nothing more:
//
//   - Writing: data pages (v1) of at most 1 MiB of values or 20,000 rows,
//     PLAIN values, RLE definition levels, compressed with zstd; the footer with
//     Iceberg's field ids and both logical and legacy converted type
//     annotations, so that every engine reads the files.
//   - Reading: files of other writers too (Spark, Arrow, DuckDB, …): data
//     pages v1 and v2; PLAIN, dictionary, RLE (booleans), the delta
//     encodings and BYTE_STREAM_SPLIT; the codecs UNCOMPRESSED, SNAPPY,
//     GZIP, ZSTD and LZ4_RAW. Top-level
//     columns of primitive types are read; nested columns are listed and
//     left alone. Anything else is refused with ErrUnsupported.
//
// It exists instead of arrow-go's Parquet packages because those import
// Arrow's compute kernels, a fifth of podium's cold build; the tests
// check this codec against arrow-go's reader and writer both ways.
package parquet

import (
	"errors"
	"strconv"
)

// ErrUnsupported marks a file that uses a part of the format this codec
// does not implement.
var ErrUnsupported = errors.New("not supported by podium's Parquet codec")

// Type is a physical type.
type Type int32

// Physical types.
const (
	Boolean           Type = 0
	Int32             Type = 1
	Int64             Type = 2
	Int96             Type = 3
	Float             Type = 4
	Double            Type = 5
	ByteArray         Type = 6
	FixedLenByteArray Type = 7
)

var typeNames = [...]string{"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"}

func (t Type) String() string {
	if t >= 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// LogicalKind is the logical type annotating a column.
type LogicalKind int

// Logical kinds.
const (
	NoLogical LogicalKind = iota
	String
	Decimal
	Timestamp
	// OtherLogical is a logical type the codec does not interpret.
	OtherLogical
)

// TimeUnit is a timestamp's unit.
type TimeUnit int

// Time units.
const (
	Micros TimeUnit = iota
	Millis
	Nanos
)

// Logical is a column's logical type.
type Logical struct {
	Kind LogicalKind
	// Precision and Scale of a Decimal.
	Precision, Scale int
	// Unit and UTC (isAdjustedToUTC) of a Timestamp.
	Unit TimeUnit
	UTC  bool
}

func (l Logical) String() string {
	switch l.Kind {
	case String:
		return "STRING"
	case Decimal:
		return "DECIMAL(" + strconv.Itoa(l.Precision) + "," + strconv.Itoa(l.Scale) + ")"
	case Timestamp:
		return "TIMESTAMP(" + [...]string{"MICROS", "MILLIS", "NANOS"}[l.Unit] + ")"
	case OtherLogical:
		return "another logical type"
	}
	return "no logical type"
}

// Column is a column of a file.
type Column struct {
	Name string
	// FieldID is the column's field id (Iceberg's); -1 for none.
	FieldID int
	Type    Type
	// Length is the length of a FixedLenByteArray.
	Length   int
	Required bool
	Logical  Logical
	// Nested is set, when reading, for a column that is not a top-level
	// primitive one (inside a group, or repeated): it cannot be read.
	Nested bool
}

// Values are the values of a column in a row group: Defined tells whether
// each row has a value (nil when every row does), and the slice of the
// column's type holds the values of the rows that have one, in order.
type Values struct {
	Rows    int
	Defined []bool
	Bool    []bool
	Int32   []int32
	Int64   []int64
	Float   []float32
	Double  []float64
	// Bytes holds ByteArray and FixedLenByteArray values.
	Bytes [][]byte
}

// count returns how many values v holds for a column of type t.
func (v *Values) count(t Type) int {
	switch t {
	case Boolean:
		return len(v.Bool)
	case Int32:
		return len(v.Int32)
	case Int64:
		return len(v.Int64)
	case Float:
		return len(v.Float)
	case Double:
		return len(v.Double)
	}
	return len(v.Bytes)
}
