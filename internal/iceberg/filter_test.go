package iceberg_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
	_ "unsafe" // go:linkname to iceberg-go's metrics evaluators

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	_ "github.com/apache/iceberg-go/table" // the evaluators below

	podice "github.com/podiumhq/podium/internal/iceberg"
)

// iceberg-go's metrics evaluators, which its table package uses to plan
// scans (inclusive) and overwrites (strict), are not exported: the tests
// hold podium's filters against them through linkname.

//go:linkname goInclusiveEvaluator github.com/apache/iceberg-go/table.newInclusiveMetricsEvaluator
func goInclusiveEvaluator(s *iceberg.Schema, expr iceberg.BooleanExpression, caseSensitive, includeEmptyFiles bool) (func(iceberg.DataFile) (bool, error), error)

//go:linkname goStrictEvaluator github.com/apache/iceberg-go/table.newStrictMetricsEvaluator
func goStrictEvaluator(s *iceberg.Schema, expr iceberg.BooleanExpression, caseSensitive, includeEmptyFiles bool) (func(iceberg.DataFile) (bool, error), error)

// filterSchema has a column of each type a filter compares, and one it
// does not.
func filterSchema() *iceberg.Schema {
	return iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "year", Type: iceberg.PrimitiveTypes.Int32},
		iceberg.NestedField{ID: 3, Name: "name", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 4, Name: "amount", Type: iceberg.PrimitiveTypes.Float64},
		iceberg.NestedField{ID: 5, Name: "n", Type: iceberg.PrimitiveTypes.Int64},
		iceberg.NestedField{ID: 6, Name: "cents", Type: iceberg.DecimalTypeOf(12, 2)},
	)
}

func mustBind(t testing.TB, f podice.Filter) *podice.BoundFilter {
	t.Helper()
	b, err := f.Bind(filterSchema())
	if err != nil {
		t.Fatalf("bind %s: %v", f, err)
	}
	return b
}

func TestBindErrors(t *testing.T) {
	tests := []struct {
		name   string
		filter podice.Filter
		want   []string // in the message
	}{
		{"missing column", podice.EqInt64("nope", 1), []string{"nope", "no such column"}},
		{"missing column in And", podice.And(podice.EqInt64("id", 1), podice.InString("gone", "x")), []string{"gone"}},
		{"missing column beside None", podice.And(podice.None(), podice.EqInt64("gone", 1)), []string{"gone"}},
		{"missing column beside All in Or", podice.Or(podice.All(), podice.AtLeastInt64("gone", 1)), []string{"gone"}},
		{"int on string", podice.EqInt32("name", 1), []string{"name", "string"}},
		{"string on long", podice.EqString("id", "1"), []string{"id", "long"}},
		{"string on int", podice.InString("year", "2025"), []string{"year", "int"}},
		{"int on double", podice.AtLeastInt64("amount", 1), []string{"amount", "double"}},
		{"int on decimal", podice.EqInt64("cents", 100), []string{"cents", "decimal"}},
		{"case matters", podice.EqInt64("ID", 1), []string{"ID"}},
		{"empty In still checked", podice.InInt64("nope"), []string{"nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.filter.Bind(filterSchema())
			if err == nil {
				t.Fatalf("bind %s = %v, want an error", tt.filter, b)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	if _, err := podice.All().Bind(nil); err == nil {
		t.Error("bind without a schema: no error")
	}
}

func TestFilterString(t *testing.T) {
	tests := []struct {
		filter podice.Filter
		want   string
	}{
		{podice.Filter{}, "true"},
		{podice.None(), "false"},
		{podice.And(), "true"},
		{podice.Or(), "false"},
		{podice.EqInt64("id", -3), "id = -3"},
		{podice.InInt64("id", 3, 1, 3), "id IN (1, 3)"},
		{podice.InString("name", "b", "a"), `name IN ("a", "b")`},
		{podice.InString("name"), "name IN ()"},
		{podice.And(podice.EqInt32("year", 2025), podice.Or(podice.EqString("name", `"x`), podice.AtLeastInt64("n", 7))),
			`(year = 2025 AND (name = "\"x" OR n >= 7))`},
	}
	for _, tt := range tests {
		if got := tt.filter.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
	}
}

// The constructors copy their arguments.
func TestFilterCopiesValues(t *testing.T) {
	vs := []int64{3, 1}
	f := podice.InInt64("id", vs...)
	vs[0] = 2
	ss := []string{"b"}
	g := podice.InString("name", ss...)
	ss[0] = "c"
	fs := []podice.Filter{f, g}
	h := podice.Or(fs...)
	fs[0] = podice.None()
	row := []any{int64(3), nil, "b", nil, nil, nil}
	for _, x := range []podice.Filter{f, g, h} {
		if ok, err := mustBind(t, x).Match(row); err != nil || !ok {
			t.Errorf("%s on %v = %v, %v, want true", x, row, ok, err)
		}
	}
}

func TestMatch(t *testing.T) {
	row := func(id int64, year any, name any, n any) []any { return []any{id, year, name, 1.5, n, int64(1999)} }
	tests := []struct {
		name   string
		filter podice.Filter
		row    []any
		want   bool
	}{
		{"all", podice.All(), row(1, nil, nil, nil), true},
		{"none", podice.None(), row(1, nil, nil, nil), false},
		{"eq long", podice.EqInt64("id", 7), row(7, nil, nil, nil), true},
		{"eq long other", podice.EqInt64("id", 7), row(8, nil, nil, nil), false},
		{"eq int", podice.EqInt32("year", 2025), row(1, int32(2025), nil, nil), true},
		{"eq long on int", podice.EqInt64("year", 2025), row(1, int32(2025), nil, nil), true},
		{"eq beyond int", podice.EqInt64("year", 1<<32+2025), row(1, int32(2025), nil, nil), false},
		{"eq int null", podice.EqInt32("year", 0), row(1, nil, nil, nil), false},
		{"eq string", podice.EqString("name", "é"), row(1, nil, "é", nil), true},
		{"eq string prefix", podice.EqString("name", "ab"), row(1, nil, "abc", nil), false},
		{"eq empty string", podice.EqString("name", ""), row(1, nil, "", nil), true},
		{"eq empty string null", podice.EqString("name", ""), row(1, nil, nil, nil), false},
		{"in long", podice.InInt64("id", 5, 1, 9), row(9, nil, nil, nil), true},
		{"in long miss", podice.InInt64("id", 5, 1, 9), row(6, nil, nil, nil), false},
		{"in empty", podice.InInt64("id"), row(0, nil, nil, nil), false},
		{"in string", podice.InString("name", "x", "y"), row(1, nil, "y", nil), true},
		{"in string null", podice.InString("name", "x", "y"), row(1, nil, nil, nil), false},
		{"at least equal", podice.AtLeastInt64("n", 4), row(1, nil, nil, int64(4)), true},
		{"at least below", podice.AtLeastInt64("n", 4), row(1, nil, nil, int64(3)), false},
		{"at least null", podice.AtLeastInt64("n", math.MinInt64), row(1, nil, nil, nil), false},
		{"at least below int", podice.AtLeastInt64("year", math.MinInt64), row(1, int32(math.MinInt32), nil, nil), true},
		{"at least below int null", podice.AtLeastInt64("year", math.MinInt64), row(1, nil, nil, nil), false},
		{"at least above int", podice.AtLeastInt64("year", math.MaxInt32+1), row(1, int32(math.MaxInt32), nil, nil), false},
		{"and", podice.And(podice.EqInt64("id", 1), podice.EqString("name", "a")), row(1, nil, "a", nil), true},
		{"and one false", podice.And(podice.EqInt64("id", 1), podice.EqString("name", "a")), row(1, nil, "b", nil), false},
		{"and empty", podice.And(), row(1, nil, nil, nil), true},
		{"or", podice.Or(podice.EqInt64("id", 2), podice.EqString("name", "a")), row(1, nil, "a", nil), true},
		{"or none true", podice.Or(podice.EqInt64("id", 2), podice.EqString("name", "a")), row(1, nil, "b", nil), false},
		{"or empty", podice.Or(), row(1, nil, nil, nil), false},
		{"int accepted", podice.EqInt64("n", 3), row(1, nil, nil, 3), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mustBind(t, tt.filter).Match(tt.row)
			if err != nil {
				t.Fatalf("%s on %v: %v", tt.filter, tt.row, err)
			}
			if got != tt.want {
				t.Errorf("%s on %v = %v, want %v", tt.filter, tt.row, got, tt.want)
			}
		})
	}
}

func TestMatchErrors(t *testing.T) {
	tests := []struct {
		name   string
		filter podice.Filter
		row    []any
	}{
		{"string for long", podice.EqInt64("id", 1), []any{"1", nil, nil, nil, nil, nil}},
		{"float for long", podice.AtLeastInt64("n", 1), []any{int64(1), nil, nil, nil, 1.0, nil}},
		{"bytes for string", podice.EqString("name", "a"), []any{int64(1), nil, []byte("a"), nil, nil, nil}},
		{"short row", podice.EqInt64("n", 1), []any{int64(1), nil, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := mustBind(t, tt.filter).Match(tt.row)
			if err == nil {
				t.Fatalf("%s on %v = %v, want an error", tt.filter, tt.row, ok)
			}
			col := tt.filter.String()[:strings.Index(tt.filter.String(), " ")]
			if !strings.Contains(err.Error(), col) {
				t.Errorf("error %q does not name column %s", err, col)
			}
		})
	}
}

func le32(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
func le64(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }

// fileStats are the statistics of a data file, as a writer records them.
type fileStats struct {
	count        int64
	values       map[int]int64
	nulls        map[int]int64
	lower, upper map[int][]byte
}

func (s fileStats) dataFile(t testing.TB) iceberg.DataFile {
	t.Helper()
	b, err := iceberg.NewDataFileBuilder(*iceberg.UnpartitionedSpec, iceberg.EntryContentData, "data/f.parquet",
		iceberg.ParquetFile, nil, nil, nil, s.count, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if s.values != nil {
		b.ValueCounts(s.values)
	}
	if s.nulls != nil {
		b.NullValueCounts(s.nulls)
	}
	if s.lower != nil {
		b.LowerBoundValues(s.lower)
	}
	if s.upper != nil {
		b.UpperBoundValues(s.upper)
	}
	return b.Build()
}

// Files' statistics hand-written: each case says what they prove.
func TestFileStats(t *testing.T) {
	// id (1, long, required) in [10, 20]; year (2, int) 2024..2024 with
	// no nulls; name (3, string): truncated bounds of values from
	// "abcdef" to "abzzzz", 1 null; n (5, long): only nulls.
	full := fileStats{
		count:  5,
		values: map[int]int64{1: 5, 2: 5, 3: 5, 5: 5},
		nulls:  map[int]int64{1: 0, 2: 0, 3: 1, 5: 5},
		lower:  map[int][]byte{1: le64(10), 2: le32(2024), 3: []byte("abc")},
		upper:  map[int][]byte{1: le64(20), 2: le32(2024), 3: []byte("ac")},
	}
	with := func(f func(*fileStats)) fileStats {
		s := full
		s.values, s.nulls = maps(full.values), maps(full.nulls)
		s.lower, s.upper = bmaps(full.lower), bmaps(full.upper)
		f(&s)
		return s
	}
	tests := []struct {
		name       string
		filter     podice.Filter
		stats      fileStats
		might, all bool
	}{
		{"eq inside", podice.EqInt64("id", 15), full, true, false},
		{"eq at lower", podice.EqInt64("id", 10), full, true, false},
		{"eq at upper", podice.EqInt64("id", 20), full, true, false},
		{"eq below", podice.EqInt64("id", 9), full, false, false},
		{"eq above", podice.EqInt64("id", 21), full, false, false},
		{"in straddling", podice.InInt64("id", 1, 30), full, false, false},
		{"in one inside", podice.InInt64("id", 1, 12, 30), full, true, false},
		{"in covering the range", podice.InInt64("id", 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), full, true, true},
		{"in with a gap", podice.InInt64("id", 10, 11, 12, 13, 14, 16, 17, 18, 19, 20), full, true, false},
		{"at least below lower", podice.AtLeastInt64("id", 10), full, true, true},
		{"at least inside", podice.AtLeastInt64("id", 11), full, true, false},
		{"at least upper", podice.AtLeastInt64("id", 20), full, true, false},
		{"at least above", podice.AtLeastInt64("id", 21), full, false, false},
		{"eq int single value", podice.EqInt32("year", 2024), full, true, true},
		{"eq long on int", podice.EqInt64("year", 2024), full, true, true},
		{"eq int beyond range", podice.EqInt64("year", 1<<32+2024), with(func(s *fileStats) { delete(s.lower, 2); delete(s.upper, 2) }), false, false},
		{"eq int single value, nulls", podice.EqInt32("year", 2024), with(func(s *fileStats) { s.nulls[2] = 1 }), true, false},
		{"eq int single value, nulls unknown", podice.EqInt32("year", 2024), with(func(s *fileStats) { delete(s.nulls, 2) }), true, false},
		{"eq required, nulls unknown", podice.AtLeastInt64("id", 10), with(func(s *fileStats) { delete(s.nulls, 1) }), true, true},
		{"eq other int", podice.EqInt32("year", 2025), full, false, false},
		{"all-null column", podice.AtLeastInt64("n", math.MinInt64), full, false, false},
		{"all-null column by record count", podice.EqInt64("n", 1), with(func(s *fileStats) { delete(s.values, 5) }), false, false},
		{"some nulls", podice.EqInt64("n", 1), with(func(s *fileStats) { s.nulls[5] = 4 }), true, false},
		{"no null counts", podice.EqInt64("n", 1), with(func(s *fileStats) { s.nulls = nil }), true, false},
		{"string prefix of truncated lower", podice.EqString("name", "ab"), full, false, false},
		{"string at truncated lower", podice.EqString("name", "abc"), full, true, false},
		{"string between", podice.EqString("name", "abzzzz"), full, true, false},
		{"string below incremented upper", podice.EqString("name", "abzzzzzzzzzzzzzzzzzz"), full, true, false},
		{"string at incremented upper", podice.EqString("name", "ac"), full, true, false},
		{"string above", podice.EqString("name", "ac\x00"), full, false, false},
		{"string in", podice.InString("name", "a", "abd", "b"), full, true, false},
		{"string in outside", podice.InString("name", "a", "b"), full, false, false},
		{"string single value", podice.EqString("name", "abc"), with(func(s *fileStats) { s.nulls[3] = 0; s.upper[3] = []byte("abc") }), true, true},
		{"string single value not in set", podice.InString("name", "abd"), with(func(s *fileStats) { s.nulls[3] = 0; s.upper[3] = []byte("abc") }), false, false},
		{"string multibyte order", podice.EqString("name", "é"), with(func(s *fileStats) { s.lower[3] = []byte("z"); s.upper[3] = []byte("\U0001F600") }), true, false},
		{"empty string bounds", podice.EqString("name", ""), with(func(s *fileStats) { s.nulls[3] = 0; s.lower[3] = []byte{}; s.upper[3] = []byte{} }), true, true},
		{"no bounds", podice.EqInt64("id", 99), with(func(s *fileStats) { s.lower, s.upper = nil, nil }), true, false},
		{"lower only", podice.EqInt64("id", 99), with(func(s *fileStats) { delete(s.upper, 1) }), true, false},
		{"upper only", podice.EqInt64("id", 1), with(func(s *fileStats) { delete(s.lower, 1) }), true, false},
		{"promoted int bounds", podice.EqInt64("id", 21), with(func(s *fileStats) { s.lower[1] = le32(10); s.upper[1] = le32(20) }), false, false},
		{"promoted int bound negative", podice.AtLeastInt64("id", -5), with(func(s *fileStats) { s.lower[1] = le32(-5); s.upper[1] = le32(-1) }), true, true},
		{"bound of a bad length", podice.EqInt64("id", 99), with(func(s *fileStats) { s.upper[1] = []byte{1, 2, 3} }), true, false},
		{"long bound for an int", podice.EqInt32("year", 2024), with(func(s *fileStats) { s.lower[2] = le64(2024) }), true, false},
		{"contradictory bounds", podice.AtLeastInt64("id", 15), with(func(s *fileStats) { s.lower[1] = le64(20); s.upper[1] = le64(10) }), true, false},
		{"contradictory string bounds", podice.EqString("name", "q"), with(func(s *fileStats) { s.lower[3] = []byte("z"); s.upper[3] = []byte("a") }), true, false},
		{"empty file", podice.EqInt64("id", 99), fileStats{count: 0}, false, true},
		{"empty file, None", podice.None(), fileStats{count: 0}, false, true},
		{"all", podice.All(), full, true, true},
		{"none", podice.None(), full, false, false},
		{"and", podice.And(podice.EqInt32("year", 2024), podice.AtLeastInt64("id", 5)), full, true, true},
		{"and one pruned", podice.And(podice.EqInt32("year", 2024), podice.AtLeastInt64("id", 50)), full, false, false},
		{"or", podice.Or(podice.EqInt32("year", 2023), podice.AtLeastInt64("id", 50)), full, false, false},
		{"or one all", podice.Or(podice.EqInt32("year", 2023), podice.AtLeastInt64("id", 5)), full, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, df := mustBind(t, tt.filter), tt.stats.dataFile(t)
			if got := b.MightMatch(df); got != tt.might {
				t.Errorf("%s: MightMatch = %v, want %v", tt.filter, got, tt.might)
			}
			if got := b.AllMatch(df); got != tt.all {
				t.Errorf("%s: AllMatch = %v, want %v", tt.filter, got, tt.all)
			}
		})
	}
}

func maps(m map[int]int64) map[int]int64 {
	if m == nil {
		return nil
	}
	c := make(map[int]int64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func bmaps(m map[int][]byte) map[int][]byte {
	if m == nil {
		return nil
	}
	c := make(map[int][]byte, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// genFilter is a random filter, the same as iceberg-go's expression, and
// a plain evaluation of it on a row.
type genFilter struct {
	f     podice.Filter
	expr  iceberg.BooleanExpression
	match func(row []any) bool
	// nullsMatch: iceberg-go binds the expression to one nulls match:
	// an int column at least a value below int32's range becomes true.
	nullsMatch bool
}

var (
	genLongs   = []int64{math.MinInt64, -3, -1, 0, 1, 2, 3, 5, 8, math.MaxInt64}
	genInts    = []int64{math.MinInt64, math.MinInt32 - 1, math.MinInt32, -1, 0, 2024, 2025, 2026, math.MaxInt32, math.MaxInt32 + 1}
	genStrings = []string{"", "a", "ab", "abc", "b", "é", "\U0010FFFF", "\U0010FFFF\U0010FFFFz",
		"aaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaaab", "zz\U0001F600\U0001F600\U0001F600",
		strings.Repeat("\U0010FFFF", 17), strings.Repeat("é", 16) + "\U0010FFFF", strings.Repeat("é", 20)}
)

func pick[T any](r *rand.Rand, vs []T) T { return vs[r.IntN(len(vs))] }

func asInt(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	}
	panic("not an integer")
}

func randFilter(r *rand.Rand, depth int) genFilter {
	switch k := r.IntN(10); {
	case k == 0:
		return genFilter{podice.All(), iceberg.AlwaysTrue{}, func([]any) bool { return true }, false}
	case k == 1:
		return genFilter{podice.None(), iceberg.AlwaysFalse{}, func([]any) bool { return false }, false}
	case k <= 3 && depth > 0:
		kids := make([]genFilter, r.IntN(4))
		fs := make([]podice.Filter, len(kids))
		es := make([]iceberg.BooleanExpression, len(kids))
		for i := range kids {
			kids[i] = randFilter(r, depth-1)
			fs[i], es[i] = kids[i].f, kids[i].expr
		}
		and := k == 2
		g := genFilter{nullsMatch: slices.ContainsFunc(kids, func(k genFilter) bool { return k.nullsMatch }), match: func(row []any) bool {
			for _, c := range kids {
				if c.match(row) != and {
					return !and
				}
			}
			return and
		}}
		if and {
			g.f = podice.And(fs...)
		} else {
			g.f = podice.Or(fs...)
		}
		switch {
		case len(es) == 0 && and:
			g.expr = iceberg.AlwaysTrue{}
		case len(es) == 0:
			g.expr = iceberg.AlwaysFalse{}
		case len(es) == 1:
			g.expr = es[0]
		case and:
			g.expr = iceberg.NewAnd(es[0], es[1], es[2:]...)
		default:
			g.expr = iceberg.NewOr(es[0], es[1], es[2:]...)
		}
		return g
	}
	col, pos := "name", 2
	switch r.IntN(4) {
	case 0:
		col, pos = "id", 0
	case 1:
		col, pos = "year", 1
	case 2:
		col, pos = "n", 4
	}
	ref := iceberg.Reference(col)
	if col == "name" {
		vs := make([]string, r.IntN(4))
		for i := range vs {
			vs[i] = pick(r, genStrings)
		}
		in := func(row []any) bool { return row[pos] != nil && slices.Contains(vs, row[pos].(string)) }
		if len(vs) == 1 && r.IntN(2) == 0 {
			return genFilter{podice.EqString(col, vs[0]), iceberg.EqualTo(ref, vs[0]), in, false}
		}
		if len(vs) == 0 {
			return genFilter{podice.InString(col), iceberg.AlwaysFalse{}, in, false}
		}
		return genFilter{podice.InString(col, vs...), iceberg.IsIn(ref, vs...), in, false}
	}
	domain := genLongs
	if col == "year" {
		domain = genInts
	}
	if r.IntN(3) == 0 {
		v := pick(r, domain)
		return genFilter{podice.AtLeastInt64(col, v), iceberg.GreaterThanEqual(ref, v),
			func(row []any) bool { return row[pos] != nil && asInt(row[pos]) >= v },
			col == "year" && v < math.MinInt32}
	}
	vs := make([]int64, r.IntN(4))
	for i := range vs {
		vs[i] = pick(r, domain)
	}
	in := func(row []any) bool { return row[pos] != nil && slices.Contains(vs, asInt(row[pos])) }
	switch {
	case len(vs) == 1 && vs[0] == int64(int32(vs[0])) && r.IntN(2) == 0:
		return genFilter{podice.EqInt32(col, int32(vs[0])), iceberg.EqualTo(ref, int32(vs[0])), in, false}
	case len(vs) == 1 && r.IntN(2) == 0:
		return genFilter{podice.EqInt64(col, vs[0]), iceberg.EqualTo(ref, vs[0]), in, false}
	case len(vs) == 0:
		return genFilter{podice.InInt64(col), iceberg.AlwaysFalse{}, in, false}
	}
	return genFilter{podice.InInt64(col, vs...), iceberg.IsIn(ref, vs...), in, false}
}

// randRows are up to 4 rows of few distinct values.
func randRows(r *rand.Rand) [][]any {
	rows := make([][]any, r.IntN(5))
	nullable := func(v any) any {
		if r.IntN(4) == 0 {
			return nil
		}
		return v
	}
	for i := range rows {
		rows[i] = []any{
			pick(r, genLongs),
			nullable(int32(pick(r, genInts[2:len(genInts)-1]))),
			nullable(pick(r, genStrings)),
			nullable(r.Float64()),
			nullable(pick(r, genLongs)),
			nil,
		}
	}
	return rows
}

// truncLength is the length of string bounds, in code points, Iceberg's
// default being 16; 0 does not truncate.
func statsOfRows(r *rand.Rand, rows [][]any, truncLength int, sparse bool) fileStats {
	s := fileStats{count: int64(len(rows)), values: map[int]int64{}, nulls: map[int]int64{},
		lower: map[int][]byte{}, upper: map[int][]byte{}}
	for pos, id := range []int{1, 2, 3, 5} {
		if id == 5 {
			pos = 4
		}
		var vals []any
		for _, row := range rows {
			if row[pos] != nil {
				vals = append(vals, row[pos])
			}
		}
		s.values[id], s.nulls[id] = int64(len(rows)), int64(len(rows)-len(vals))
		if len(vals) == 0 {
			continue
		}
		switch id {
		case 3:
			strs := make([]string, len(vals))
			for i, v := range vals {
				strs[i] = v.(string)
			}
			lo, hi := slices.Min(strs), slices.Max(strs)
			s.lower[id] = []byte(truncDown(lo, truncLength))
			if up, ok := truncUp(hi, truncLength); ok {
				s.upper[id] = []byte(up)
			}
		default:
			ints := make([]int64, len(vals))
			for i, v := range vals {
				ints[i] = asInt(v)
			}
			lo, hi := slices.Min(ints), slices.Max(ints)
			if id == 2 {
				s.lower[id], s.upper[id] = le32(int32(lo)), le32(int32(hi))
			} else {
				s.lower[id], s.upper[id] = le64(lo), le64(hi)
			}
		}
	}
	if sparse {
		// Writers may keep no statistics, or some.
		for _, m := range []map[int]int64{s.values, s.nulls} {
			for id := range m {
				if r.IntN(3) == 0 {
					delete(m, id)
				}
			}
		}
		for _, m := range []map[int][]byte{s.lower, s.upper} {
			for id := range m {
				if r.IntN(3) == 0 {
					delete(m, id)
				}
			}
		}
		if r.IntN(5) == 0 {
			s.nulls = nil
		}
		if r.IntN(5) == 0 {
			s.lower, s.upper = nil, nil
		}
	}
	return s
}

// truncDown is the lower bound of s: its first n code points.
func truncDown(s string, n int) string {
	if n == 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// truncUp is the upper bound of s: its first n code points, the last
// that can be incremented incremented; none if none can.
func truncUp(s string, n int) (string, bool) {
	if n == 0 || utf8.RuneCountInString(s) <= n {
		return s, true
	}
	rs := []rune(s)[:n]
	for i := len(rs) - 1; i >= 0; i-- {
		if c := rs[i] + 1; c <= utf8.MaxRune {
			if c >= 0xD800 && c <= 0xDFFF {
				c = 0xE000
			}
			return string(append(rs[:i], c)), true
		}
	}
	return "", false
}

// fileCheck tallies the files checkFile saw.
type fileCheck struct{ compared, pruned, proven int }

// checkFile checks b (bound from g) on a data file df of rows: Match is
// g's plain evaluation; MightMatch holds whenever a row matches, AllMatch
// only when every row does; iceberg-go's evaluators prune no file
// MightMatch keeps and prove no file AllMatch does not, and with exact
// (value counts of every column) MightMatch is iceberg-go's inclusive
// evaluator.
func (c *fileCheck) checkFile(t *testing.T, g genFilter, b *podice.BoundFilter, rows [][]any, df iceberg.DataFile, exact bool) {
	t.Helper()
	some, every := false, true
	for _, row := range rows {
		want := g.match(row)
		got, err := b.Match(row)
		if err != nil || got != want {
			t.Fatalf("%s on %v = %v, %v; want %v", g.f, row, got, err, want)
		}
		some, every = some || want, every && want
	}
	stats := func() string {
		return fmt.Sprintf("rows %v, %d records, values %v, nulls %v, lower %v, upper %v", rows, df.Count(),
			df.ValueCounts(), df.NullValueCounts(), df.LowerBoundValues(), df.UpperBoundValues())
	}
	might, all := b.MightMatch(df), b.AllMatch(df)
	if some && !might {
		t.Fatalf("%s: MightMatch false, a row matching: %s", g.f, stats())
	}
	if all && !every {
		t.Fatalf("%s: AllMatch true, not every row matching: %s", g.f, stats())
	}
	if len(rows) > 0 && all && !might {
		t.Fatalf("%s: AllMatch without MightMatch: %s", g.f, stats())
	}
	sc := filterSchema()
	incl, err := goInclusiveEvaluator(sc, g.expr, true, false)
	if err != nil {
		t.Fatalf("iceberg-go %s: %v", g.expr, err)
	}
	goMight, err := incl(df)
	if err != nil {
		t.Fatalf("iceberg-go inclusive %s: %v", g.expr, err)
	}
	strict, err := goStrictEvaluator(sc, g.expr, true, false)
	if err != nil {
		t.Fatalf("iceberg-go %s: %v", g.expr, err)
	}
	goAll, err := strict(df)
	if err != nil {
		t.Fatalf("iceberg-go strict %s: %v", g.expr, err)
	}
	if g.nullsMatch {
		return // iceberg-go differs, on purpose: see genFilter
	}
	if might && !goMight {
		t.Fatalf("%s: MightMatch true, iceberg-go's false: %s", g.f, stats())
	}
	if !might && goMight && exact {
		t.Fatalf("%s: MightMatch false, iceberg-go's true: %s", g.f, stats())
	}
	if goAll && !all {
		t.Fatalf("%s: AllMatch false, iceberg-go's strict evaluator true: %s", g.f, stats())
	}
	c.compared++
	if !might && len(rows) > 0 {
		c.pruned++
	}
	if all && len(rows) > 0 {
		c.proven++
	}
}

// The test means something only if files were pruned and proven.
func (c *fileCheck) enough(t *testing.T, files int) {
	t.Logf("of %d files, %d compared with iceberg-go: pruned %d, proven %d", files, c.compared, c.pruned, c.proven)
	if c.pruned < files/20 || c.proven < files/20 || c.compared < files*3/4 {
		t.Errorf("of %d files, %d compared with iceberg-go: pruned %d, proven %d: too few to test", files, c.compared, c.pruned, c.proven)
	}
}

// Random filters on files of random rows with statistics as writers may
// keep them: strings truncated to 1, 2 or 16 code points or not at all,
// and some counts and bounds missing.
func TestFileStatsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var c fileCheck
	const files = 20000
	for range files {
		g := randFilter(r, 2)
		rows := randRows(r)
		sparse := r.IntN(2) == 0
		st := statsOfRows(r, rows, pick(r, []int{0, 1, 2, 16}), sparse)
		c.checkFile(t, g, mustBind(t, g.f), rows, st.dataFile(t), !sparse || len(st.values) == 4)
	}
	c.enough(t, files)
}

// Random filters on data files written by WriteDataFile, with the
// statistics it keeps, and on the rows read back.
func TestFileStatsWritten(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	dir := t.TempDir()
	var c fileCheck
	const files, filters = 300, 40
	for i := range files {
		rows := randRows(r)
		in := make([]podice.Row, len(rows))
		for j, row := range rows {
			in[j] = row
		}
		path := filepath.Join(dir, fmt.Sprintf("%d.parquet", i))
		df, err := podice.WriteDataFile(t.Context(), iceio.LocalFS{}, path, filterSchema(), *iceberg.UnpartitionedSpec, in)
		if err != nil {
			t.Fatal(err)
		}
		back, err := podice.ReadDataFile(t.Context(), iceio.LocalFS{}, filterSchema(), df)
		if err != nil {
			t.Fatal(err)
		}
		rows = make([][]any, len(back))
		for j, row := range back {
			rows[j] = row
		}
		for range filters {
			g := randFilter(r, 2)
			c.checkFile(t, g, mustBind(t, g.f), rows, df, true)
		}
	}
	c.enough(t, files*filters)
}

// Bounds come from files other programs wrote: any bytes.
func FuzzFileStats(f *testing.F) {
	f.Add(le64(1), le64(5), le32(2024), le32(2025), []byte("ab"), []byte("ac"), int64(3), int64(0), int64(3), int64(1))
	f.Add([]byte{1}, []byte{}, le64(3), le32(1), []byte{0xff, 0xfe}, []byte("\xed\xa0\x80"), int64(1), int64(1), int64(-1), int64(1))
	f.Add([]byte(nil), le32(-7), le64(2024), []byte(nil), []byte(nil), []byte{}, int64(0), int64(0), int64(0), int64(0))
	r := rand.New(rand.NewPCG(3, 4))
	filters := make([]genFilter, 200)
	bound := make([]*podice.BoundFilter, len(filters))
	for i := range filters {
		filters[i] = randFilter(r, 2)
		bound[i] = mustBind(f, filters[i].f)
	}
	f.Fuzz(func(t *testing.T, lo1, hi1, lo2, hi2, lo3, hi3 []byte, count, nulls1, nulls2, values int64) {
		if count < 0 {
			t.Skip("iceberg-go builds no data file of fewer than 0 rows")
		}
		st := fileStats{
			count:  count,
			values: map[int]int64{1: values, 2: values, 3: values},
			nulls:  map[int]int64{1: nulls1, 2: nulls2, 3: nulls1},
			lower:  map[int][]byte{1: lo1, 2: lo2, 3: lo3},
			upper:  map[int][]byte{1: hi1, 2: hi2, 3: hi3},
		}
		df := st.dataFile(t)
		for i, b := range bound {
			might, all := b.MightMatch(df), b.AllMatch(df)
			if count != 0 && all && !might {
				t.Fatalf("%s: AllMatch without MightMatch, stats %+v", filters[i].f, st)
			}
			if count == 0 && (might || !all) {
				t.Fatalf("%s on an empty file: MightMatch %v, AllMatch %v", filters[i].f, might, all)
			}
		}
	})
}
