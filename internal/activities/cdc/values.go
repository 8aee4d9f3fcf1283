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
	"unicode/utf8"

	"github.com/podiumhq/podium/internal/jsonscan"
)

// kind is how a column's values are written in events, following the
// Debezium PostgreSQL connector's default mappings.
type kind uint8

const (
	kindText        kind = iota // STRING
	kindInt                     // INT16, INT32, INT64
	kindFloat                   // FLOAT32, FLOAT64
	kindBool                    // BOOLEAN
	kindTimestampTZ             // io.debezium.time.ZonedTimestamp: ISO-8601 string in UTC
	kindTimestamp               // io.debezium.time.MicroTimestamp: microseconds since the epoch
	kindDate                    // io.debezium.time.Date: days since the epoch
)

// unavailable is what Debezium writes for a TOASTed value that an update
// left unchanged and the WAL does not carry.
const unavailable = "__debezium_unavailable_value"

// zonedLayout is Debezium's format of timestamptz values: UTC, six
// fractional digits (the column's precision).
const zonedLayout = "2006-01-02T15:04:05.000000Z"

// pgKind maps a PostgreSQL type OID to the kind of its values.
func pgKind(oid uint32) kind {
	switch oid {
	case 20, 21, 23, 26: // int8, int2, int4, oid
		return kindInt
	case 700, 701: // float4, float8
		return kindFloat
	case 16: // bool
		return kindBool
	case 1184: // timestamptz
		return kindTimestampTZ
	case 1114: // timestamp
		return kindTimestamp
	case 1082: // date
		return kindDate
	}
	return kindText
}

// sqliteKind maps a declared SQLite column type to the kind of its values,
// by SQLite's affinity rules plus the date and time names podium uses.
func sqliteKind(declared string) kind {
	t := strings.ToUpper(declared)
	switch {
	case strings.Contains(t, "INT"):
		return kindInt
	case strings.Contains(t, "TIMESTAMP"), strings.Contains(t, "DATETIME"):
		return kindTimestampTZ
	case t == "DATE":
		return kindDate
	case strings.Contains(t, "BOOL"):
		return kindBool
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"):
		return kindFloat
	}
	return kindText
}

// column is one column of the captured table.
type column struct {
	name    string
	kind    kind
	key     bool   // part of the primary key
	notNull bool   // NOT NULL
	ctype   string // Kafka Connect schema type, for the schema part
	cname   string // Kafka Connect logical type name, for the schema part
}

// image is one row image as written in an event: the row as a JSON object
// with a field per column, in table order, and the key: a JSON object of
// the primary key columns, Debezium's message key ({"id":42}).
type image struct {
	row []byte
	key []byte
}

// imageBuilder builds an image column by column.
type imageBuilder struct {
	row, key []byte
	nrow     int
	nkey     int
}

func (ib *imageBuilder) start() {
	ib.row = append(ib.row[:0], '{')
	ib.key = append(ib.key[:0], '{')
	ib.nrow, ib.nkey = 0, 0
}

// field appends the name of a column; the caller appends its value to
// ib.row next, then calls done.
func (ib *imageBuilder) field(name string) int {
	if ib.nrow > 0 {
		ib.row = append(ib.row, ',')
	}
	ib.nrow++
	ib.row = appendString(ib.row, name)
	ib.row = append(ib.row, ':')
	return len(ib.row)
}

// done copies the value appended since field into the key when the column
// is a key column.
func (ib *imageBuilder) done(c column, from int) {
	if !c.key {
		return
	}
	if ib.nkey > 0 {
		ib.key = append(ib.key, ',')
	}
	ib.nkey++
	ib.key = appendString(ib.key, c.name)
	ib.key = append(ib.key, ':')
	ib.key = append(ib.key, ib.row[from:]...)
}

// finish returns the image, in fresh slices.
func (ib *imageBuilder) finish() image {
	im := ib.finishShared()
	return image{row: bytes.Clone(im.row), key: bytes.Clone(im.key)}
}

// finishShared returns the image in the builder's own slices, valid until
// its next start.
func (ib *imageBuilder) finishShared() image {
	ib.row = append(ib.row, '}')
	ib.key = append(ib.key, '}')
	return image{row: ib.row, key: ib.key}
}

// appendPGText appends the JSON value of a column from its PostgreSQL text
// output.
func appendPGText(b []byte, k kind, text []byte) []byte {
	switch k {
	case kindInt:
		if _, err := strconv.ParseInt(string(text), 10, 64); err == nil {
			return append(b, text...)
		}
	case kindFloat:
		if f, err := strconv.ParseFloat(string(text), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return appendFloat(b, f)
		}
	case kindBool:
		switch string(text) {
		case "t":
			return append(b, "true"...)
		case "f":
			return append(b, "false"...)
		}
	case kindTimestampTZ, kindTimestamp, kindDate:
		if t, err := parseTime(string(text)); err == nil {
			return appendTime(b, k, t)
		}
	}
	// Text, or a value of another kind that has no JSON number (NaN,
	// infinity): its text.
	return appendString(b, string(text))
}

// appendTime appends t as a value of kind k.
func appendTime(b []byte, k kind, t time.Time) []byte {
	switch k {
	case kindTimestamp:
		return strconv.AppendInt(b, t.UnixMicro(), 10)
	case kindDate:
		y, m, d := t.Date()
		days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
		return strconv.AppendInt(b, days, 10)
	}
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, zonedLayout)
	return append(b, '"')
}

// appendJSONValue appends the value of a column of kind k given as a JSON
// value (from SQLite's json_object), converted to the kind: SQLite stores
// any value in any column, and times as text or numbers.
func appendJSONValue(b []byte, k kind, raw string) ([]byte, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		return append(b, "null"...), nil
	}
	str := raw
	isString := raw[0] == '"'
	if isString {
		if len(raw) >= 2 && raw[len(raw)-1] == '"' && strings.IndexByte(raw, '\\') < 0 {
			str = raw[1 : len(raw)-1]
		} else if err := json.Unmarshal([]byte(raw), &str); err != nil {
			return b, err
		}
	}
	switch k {
	case kindInt:
		if n, err := strconv.ParseInt(str, 10, 64); err == nil {
			return strconv.AppendInt(b, n, 10), nil
		}
		if f, err := strconv.ParseFloat(str, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return strconv.AppendInt(b, int64(f), 10), nil
			}
			return appendFloat(b, f), nil
		}
	case kindFloat:
		if f, err := strconv.ParseFloat(str, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return appendFloat(b, f), nil
		}
	case kindBool:
		switch strings.ToLower(str) {
		case "1", "true", "t":
			return append(b, "true"...), nil
		case "0", "false", "f":
			return append(b, "false"...), nil
		}
	case kindTimestampTZ, kindTimestamp, kindDate:
		if !isString {
			if f, err := strconv.ParseFloat(str, 64); err == nil {
				// A number is a Unix time in seconds, as SQLite's unixepoch().
				sec, frac := math.Modf(f)
				return appendTime(b, k, time.Unix(int64(sec), int64(frac*1e9))), nil
			}
		}
		if t, err := parseTime(str); err == nil {
			return appendTime(b, k, t), nil
		}
	}
	return appendString(b, str), nil
}

// field is one member of a flat JSON object: its key and raw value, and
// where the value starts in the object's text (scanFlat).
type field struct {
	key, raw string
	at       int
}

var errNotFlat = errors.New("not a flat JSON object")

// scanFlat appends to fields the members of src, a JSON object whose
// values are scalars, as json_object writes a row. It fails on anything
// else, nested values included.
func scanFlat(src string, fields []field) ([]field, error) {
	i := jsonscan.SkipSpace(src, 0)
	if i >= len(src) || src[i] != '{' {
		return fields, errNotFlat
	}
	i = jsonscan.SkipSpace(src, i+1)
	if i < len(src) && src[i] == '}' {
		return fields, nil
	}
	for {
		if i >= len(src) || src[i] != '"' {
			return fields, errNotFlat
		}
		end, ok := scanString(src, i)
		if !ok {
			return fields, errNotFlat
		}
		key := src[i+1 : end-1]
		if strings.IndexByte(key, '\\') >= 0 || !utf8.ValidString(key) {
			var k string
			if err := json.Unmarshal([]byte(src[i:end]), &k); err != nil {
				return fields, errNotFlat
			}
			key = k
		}
		i = jsonscan.SkipSpace(src, end)
		if i >= len(src) || src[i] != ':' {
			return fields, errNotFlat
		}
		i = jsonscan.SkipSpace(src, i+1)
		start := i
		switch {
		case i >= len(src):
			return fields, errNotFlat
		case src[i] == '"':
			if i, ok = scanString(src, i); !ok {
				return fields, errNotFlat
			}
		case src[i] == '{' || src[i] == '[':
			return fields, errNotFlat
		default:
			for i < len(src) && src[i] != ',' && src[i] != '}' && src[i] != ' ' && src[i] != '\n' && src[i] != '\t' && src[i] != '\r' {
				i++
			}
		}
		fields = append(fields, field{key: key, raw: src[start:i], at: start})
		i = jsonscan.SkipSpace(src, i)
		switch {
		case i < len(src) && src[i] == ',':
			i = jsonscan.SkipSpace(src, i+1)
		case i < len(src) && src[i] == '}':
			if jsonscan.SkipSpace(src, i+1) != len(src) {
				return fields, errNotFlat
			}
			return fields, nil
		default:
			return fields, errNotFlat
		}
	}
}

// scanString returns the index after the JSON string that starts at s[i].
func scanString(s string, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// timeLayouts are the text forms of times accepted: PostgreSQL's output
// (DateStyle ISO), modernc SQLite's, RFC 3339, SQLite's own functions, and
// Go's time.Time.String. A time without a zone is UTC.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00:00",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02 15:04Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

var errTime = errors.New("not a time")

// parseTime parses a time in one of timeLayouts.
func parseTime(s string) (time.Time, error) {
	if len(s) < len("2006-01-02") {
		return time.Time{}, errTime
	}
	if i := strings.Index(s, " m="); i > 0 { // time.Time.String's monotonic clock
		s = s[:i]
	}
	for _, l := range timeLayouts {
		// The date is ten bytes in every layout: a layout that goes on
		// otherwise than s does cannot parse it (saves failed attempts).
		if len(l) > 10 && (len(s) == 10 || l[10] != s[10]) || len(l) == 10 && len(s) != 10 {
			continue
		}
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %q", errTime, s)
}

// appendFloat appends f as encoding/json writes a float64, with ".0" after
// an integral value, as Debezium's JSON converter writes a FLOAT64.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'f' && bytes.IndexByte(b[start:], '.') < 0 {
		// A double stays a double: 42195.0, as Debezium's JSON converter
		// writes a FLOAT64, never the integer 42195.
		b = append(b, ".0"...)
	}
	if format == 'e' {
		// Clean up e-09 to e-9.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString appends s as a JSON string, escaping like encoding/json
// without HTML escaping; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
