package openf1

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Latest is the value of session_key or meeting_key that names the current
// or latest session or meeting.
const Latest = "latest"

// Filter is one query condition on an endpoint's rows, such as
// Eq("session_key", "latest") or Gt("date", t). Several filters are ANDed.
type Filter struct {
	Field string
	Op    string // "=", ">", ">=", "<", "<="
	Value string // as sent
}

// Eq matches rows whose field equals v.
func Eq(field string, v any) Filter { return Filter{field, "=", formatValue(v)} }

// Gt matches rows whose field is greater than v.
func Gt(field string, v any) Filter { return Filter{field, ">", formatValue(v)} }

// Gte matches rows whose field is greater than or equal to v.
func Gte(field string, v any) Filter { return Filter{field, ">=", formatValue(v)} }

// Lt matches rows whose field is less than v.
func Lt(field string, v any) Filter { return Filter{field, "<", formatValue(v)} }

// Lte matches rows whose field is less than or equal to v.
func Lte(field string, v any) Filter { return Filter{field, "<=", formatValue(v)} }

// SessionKey matches one session: a key, or "latest".
func SessionKey(key string) Filter { return Eq("session_key", key) }

// filterTime is how times are sent: UTC without an offset (OpenF1 reads
// that as UTC), microsecond precision, so that no '+' has to survive the
// query string.
const filterTime = "2006-01-02T15:04:05.999999"

func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.UTC().Format(filterTime)
	case Time:
		return v.UTC().Format(filterTime)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

// encodeFilters builds the query string. OpenF1 reads each parameter as
// "name=value", or as the bare name when the value is empty, then splits
// it at its operator: so "date>=X" is sent as name "date>" and value "X",
// and "date>X" as the bare name "date>X". Both are percent-encoded.
func encodeFilters(filters []Filter) string {
	var b strings.Builder
	for i, f := range filters {
		if i > 0 {
			b.WriteByte('&')
		}
		switch f.Op {
		case "=", "":
			b.WriteString(url.QueryEscape(f.Field) + "=" + url.QueryEscape(f.Value))
		case ">=", "<=":
			b.WriteString(url.QueryEscape(f.Field+f.Op[:1]) + "=" + url.QueryEscape(f.Value))
		default: // ">" and "<"
			b.WriteString(url.QueryEscape(f.Field + f.Op + f.Value))
		}
	}
	return b.String()
}

// String prints the filter as OpenF1's documentation does: "date>=2023-09-16T13:03:35".
func (f Filter) String() string { return f.Field + f.Op + f.Value }
