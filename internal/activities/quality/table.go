package quality

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// column is a column of a table and how its values convert.
type column struct {
	name string
	conv func(v any) (any, error)
}

// tableColumns returns the columns of table, in table order, with the
// conversion of their values to the types rules see. It fails when the
// table does not exist.
func tableColumns(ctx context.Context, q queryer, table string) ([]column, error) {
	rows, err := q.QueryContext(ctx, `SELECT * FROM `+quote(table)+` WHERE 1 = 0`)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	defer func() { _ = rows.Close() }()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	out := make([]column, len(types))
	for i, t := range types {
		out[i] = column{name: strings.ToLower(t.Name()), conv: converter(t.DatabaseTypeName())}
	}
	return out, rows.Err()
}

// queryer is a *sql.DB or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// converter returns the conversion of the values of a column of the given
// database type (SQLite's declared type, or PostgreSQL's type name) to
// int64, float64, string, bool or time.Time. Aggregates (MIN, MAX) lose the
// declared type on SQLite, so the conversion goes by the column's type, not
// by the value's.
func converter(dbType string) func(v any) (any, error) {
	t := strings.ToUpper(dbType)
	switch {
	case strings.Contains(t, "TIME") || t == "DATE":
		return toTime
	case strings.Contains(t, "INT") || t == "SERIAL" || t == "BIGSERIAL":
		return toInt
	case strings.Contains(t, "REAL") || strings.Contains(t, "FLOA") || strings.Contains(t, "DOUB") ||
		strings.Contains(t, "NUMERIC") || strings.Contains(t, "DECIMAL"):
		return toFloat
	case strings.HasPrefix(t, "BOOL"):
		return toBool
	}
	return toValue
}

// toValue converts what a driver returns without a declared type.
func toValue(v any) (any, error) {
	switch x := v.(type) {
	case []byte:
		return string(x), nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case time.Time:
		return x.UTC(), nil
	}
	return v, nil
}

func toInt(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float64:
		if x == float64(int64(x)) {
			return int64(x), nil
		}
		return x, nil
	case []byte:
		return toInt(string(x))
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return x, nil //nolint:nilerr // not a number: the rule sees the text
		}
		return n, nil
	}
	return toValue(v)
}

func toFloat(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case []byte:
		return toFloat(string(x))
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return x, nil //nolint:nilerr // not a number: the rule sees the text
		}
		return f, nil
	}
	return toValue(v)
}

func toBool(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int64:
		return x != 0, nil
	case []byte:
		return toBool(string(x))
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return b, nil
		}
	}
	return toValue(v)
}

// timeLayouts are the ways SQLite (modernc.org/sqlite) writes times, and
// ISO 8601.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

func toTime(v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case []byte:
		return toTime(string(x))
	case string:
		s := strings.TrimSpace(x)
		// modernc.org/sqlite may append the monotonic clock reading.
		if i := strings.Index(s, " m="); i > 0 {
			s = s[:i]
		}
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC(), nil
			}
		}
		return nil, fmt.Errorf("%q is not a time", x)
	case int64:
		return time.Unix(x, 0).UTC(), nil
	case float64:
		return time.Unix(0, int64(x*1e9)).UTC(), nil
	}
	return toValue(v)
}
