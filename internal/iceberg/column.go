package iceberg

import (
	"errors"
	"fmt"
	"time"

	"github.com/apache/iceberg-go"
)

// Row is one row of a table: a value per field of the schema, in field
// order; nil is null. The Go type of each value follows the field's
// Iceberg type:
//
//	long        int64 (int accepted on write)
//	int         int32 (int accepted on write)
//	double      float64
//	string      string
//	boolean     bool
//	timestamptz time.Time (microseconds; read back in UTC)
//	binary      []byte
//	decimal(P,S), P ≤ 18: int64, the unscaled value (cents for S = 2)
type Row []any

// kind is a column type this package reads and writes.
type kind int

const (
	kindLong kind = iota
	kindInt
	kindDouble
	kindString
	kindBool
	kindTimestampTz
	kindBinary
	kindDecimal
)

// column is a top-level field of a schema.
type column struct {
	id        int
	name      string
	kind      kind
	required  bool
	precision int // decimal only
	scale     int // decimal only
}

// columnsOf returns the columns of sc; a field of another type (nested,
// uuid, date, decimal of more than 18 digits, …) is ErrUnsupported.
func columnsOf(sc *iceberg.Schema) ([]column, error) {
	if sc == nil {
		return nil, errors.New("iceberg: no schema")
	}
	fields := sc.Fields()
	cols := make([]column, len(fields))
	for i, f := range fields {
		c := column{id: f.ID, name: f.Name, required: f.Required}
		switch t := f.Type.(type) {
		case iceberg.Int64Type:
			c.kind = kindLong
		case iceberg.Int32Type:
			c.kind = kindInt
		case iceberg.Float64Type:
			c.kind = kindDouble
		case iceberg.StringType:
			c.kind = kindString
		case iceberg.BooleanType:
			c.kind = kindBool
		case iceberg.TimestampTzType:
			c.kind = kindTimestampTz
		case iceberg.BinaryType:
			c.kind = kindBinary
		case iceberg.DecimalType:
			if t.Precision() > 18 {
				return nil, fmt.Errorf("iceberg: column %s: %s does not fit an int64: %w", f.Name, f.Type, ErrUnsupported)
			}
			c.kind, c.precision, c.scale = kindDecimal, t.Precision(), t.Scale()
		default:
			return nil, fmt.Errorf("iceberg: column %s: type %s: %w", f.Name, f.Type, ErrUnsupported)
		}
		cols[i] = c
	}
	return cols, nil
}

// badValue reports a value of the wrong Go type for c.
func (c column) badValue(v any) error {
	return fmt.Errorf("column %s: want a value for %s, got %T", c.name, c.typeName(), v)
}

func (c column) typeName() string {
	switch c.kind {
	case kindLong:
		return "long"
	case kindInt:
		return "int"
	case kindDouble:
		return "double"
	case kindString:
		return "string"
	case kindBool:
		return "boolean"
	case kindTimestampTz:
		return "timestamptz"
	case kindBinary:
		return "binary"
	case kindDecimal:
		return fmt.Sprintf("decimal(%d,%d)", c.precision, c.scale)
	}
	return "unknown"
}

// asInt64 returns the value of a long, timestamptz or decimal column as
// stored: the number, microseconds since the epoch, the unscaled value.
func (c column) asInt64(v any) (int64, error) {
	switch c.kind {
	case kindLong, kindDecimal:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			if c.kind == kindLong {
				return int64(x), nil
			}
		}
	case kindTimestampTz:
		if x, ok := v.(time.Time); ok {
			return x.UnixMicro(), nil
		}
	}
	return 0, c.badValue(v)
}
