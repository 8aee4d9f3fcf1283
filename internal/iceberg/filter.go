package iceberg

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
)

// Filter selects rows by their values: the filters of overwrites, deletes
// and scans. The zero Filter selects every row. A Filter names columns; Bind
// resolves them against a schema, and the bound filter tests rows (Match)
// and prunes data files by their column statistics (MightMatch, AllMatch).
//
// Null never equals, is never in and is never at least a value: a
// comparison on a null selects nothing, as in SQL and in Iceberg.
type Filter struct {
	n *filterNode
}

type filterOp uint8

const (
	opAll     filterOp = iota
	opNone             // selects nothing
	opIn               // column value in ints or strs
	opAtLeast          // column value ≥ ints[0]
	opAnd
	opOr
)

type filterNode struct {
	op   filterOp
	col  string
	str  bool     // the values are strings (strs), else integers (ints)
	ints []int64  // sorted, distinct
	strs []string // sorted, distinct
	kids []Filter
}

func (f Filter) op() filterOp {
	if f.n == nil {
		return opAll
	}
	return f.n.op
}

// All selects every row.
func All() Filter { return Filter{} }

// None selects no row.
func None() Filter { return Filter{n: &filterNode{op: opNone}} }

// InInt64 selects the rows whose column col (an integer column: long or
// int) holds one of vs. With no values it selects nothing.
func InInt64(col string, vs ...int64) Filter {
	vs = slices.Clone(vs)
	slices.Sort(vs)
	return Filter{n: &filterNode{op: opIn, col: col, ints: slices.Compact(vs)}}
}

// InString selects the rows whose column col (a string column) holds one
// of vs. With no values it selects nothing.
func InString(col string, vs ...string) Filter {
	vs = slices.Clone(vs)
	slices.Sort(vs)
	return Filter{n: &filterNode{op: opIn, col: col, str: true, strs: slices.Compact(vs)}}
}

// EqInt64 selects the rows whose column col (long or int) equals v.
func EqInt64(col string, v int64) Filter { return InInt64(col, v) }

// EqInt32 selects the rows whose column col (int or long) equals v.
func EqInt32(col string, v int32) Filter { return InInt64(col, int64(v)) }

// EqString selects the rows whose column col (a string column) equals v.
func EqString(col string, v string) Filter { return InString(col, v) }

// AtLeastInt64 selects the rows whose column col (long or int) is v or
// more.
func AtLeastInt64(col string, v int64) Filter {
	return Filter{n: &filterNode{op: opAtLeast, col: col, ints: []int64{v}}}
}

// And selects the rows every one of fs selects; And() selects every row.
func And(fs ...Filter) Filter {
	if len(fs) == 1 {
		return fs[0]
	}
	return Filter{n: &filterNode{op: opAnd, kids: slices.Clone(fs)}}
}

// Or selects the rows any of fs selects; Or() selects none.
func Or(fs ...Filter) Filter {
	if len(fs) == 1 {
		return fs[0]
	}
	return Filter{n: &filterNode{op: opOr, kids: slices.Clone(fs)}}
}

// String writes the filter as a boolean expression, for messages.
func (f Filter) String() string {
	var b strings.Builder
	f.write(&b)
	return b.String()
}

func (f Filter) write(b *strings.Builder) {
	switch f.op() {
	case opAll:
		b.WriteString("true")
	case opNone:
		b.WriteString("false")
	case opAtLeast:
		fmt.Fprintf(b, "%s >= %d", f.n.col, f.n.ints[0])
	case opIn:
		n := f.n
		if len(n.ints)+len(n.strs) == 1 {
			b.WriteString(n.col + " = ")
		} else {
			b.WriteString(n.col + " IN (")
		}
		for i := range len(n.ints) + len(n.strs) {
			if i > 0 {
				b.WriteString(", ")
			}
			if n.str {
				b.WriteString(strconv.Quote(n.strs[i]))
			} else {
				b.WriteString(strconv.FormatInt(n.ints[i], 10))
			}
		}
		if len(n.ints)+len(n.strs) != 1 {
			b.WriteString(")")
		}
	case opAnd, opOr:
		sep, empty := " AND ", "true"
		if f.n.op == opOr {
			sep, empty = " OR ", "false"
		}
		if len(f.n.kids) == 0 {
			b.WriteString(empty)
			return
		}
		b.WriteString("(")
		for i, k := range f.n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.write(b)
		}
		b.WriteString(")")
	}
}

// BoundFilter is a Filter bound to a schema. It is immutable and safe for
// concurrent use.
type BoundFilter struct {
	root boundNode
	text string
}

type boundNode struct {
	op       filterOp
	pos      int // the column's position in the row
	id       int // the column's field id
	name     string
	kind     kind // kindLong, kindInt or kindString
	required bool
	ints     []int64
	strs     []string
	kids     []boundNode
}

// Bind resolves the columns of f among the top-level fields of sc. A
// column that sc does not have, or whose type the filter cannot compare
// (integers: long or int; strings: string), is an error naming it, as is
// a schema this package cannot read. Integer values beyond an int
// column's range select nothing.
func (f Filter) Bind(sc *iceberg.Schema) (*BoundFilter, error) {
	cols, err := columnsOf(sc)
	if err != nil {
		return nil, fmt.Errorf("iceberg: bind filter %s: %w", f, err)
	}
	root, err := f.bind(cols)
	if err != nil {
		return nil, fmt.Errorf("iceberg: bind filter %s: %w", f, err)
	}
	return &BoundFilter{root: root, text: f.String()}, nil
}

func (f Filter) bind(cols []column) (boundNode, error) {
	switch op := f.op(); op {
	case opAll, opNone:
		return boundNode{op: op}, nil
	case opAnd, opOr:
		// And drops what selects everything and is nothing if a part is;
		// Or the other way round.
		unit, zero := opAll, opNone
		if op == opOr {
			unit, zero = opNone, opAll
		}
		var kids []boundNode
		isZero := false
		for _, k := range f.n.kids {
			b, err := k.bind(cols)
			if err != nil {
				return boundNode{}, err
			}
			switch b.op {
			case unit:
			case zero:
				isZero = true // every column is still checked
			default:
				kids = append(kids, b)
			}
		}
		switch {
		case isZero:
			return boundNode{op: zero}, nil
		case len(kids) == 0:
			return boundNode{op: unit}, nil
		case len(kids) == 1:
			return kids[0], nil
		}
		return boundNode{op: op, kids: kids}, nil
	}
	n := f.n
	pos := slices.IndexFunc(cols, func(c column) bool { return c.name == n.col })
	if pos < 0 {
		return boundNode{}, fmt.Errorf("column %s: no such column", n.col)
	}
	c := cols[pos]
	b := boundNode{op: n.op, pos: pos, id: c.id, name: c.name, kind: c.kind, required: c.required, ints: n.ints, strs: n.strs}
	switch {
	case c.kind != kindLong && c.kind != kindInt && c.kind != kindString:
		return boundNode{}, fmt.Errorf("column %s is %s: the filter compares only long, int and string columns", c.name, c.typeName())
	case n.str != (c.kind == kindString):
		want := "an integer"
		if n.str {
			want = "a string"
		}
		return boundNode{}, fmt.Errorf("column %s is %s, the filter compares %s", c.name, c.typeName(), want)
	}
	if b.kind == kindInt {
		// An int holds no value beyond int32: such values select nothing.
		switch n.op {
		case opIn:
			lo, _ := slices.BinarySearch(n.ints, math.MinInt32)
			hi, _ := slices.BinarySearch(n.ints, math.MaxInt32+1)
			b.ints = n.ints[lo:hi]
		case opAtLeast:
			if n.ints[0] > math.MaxInt32 {
				return boundNode{op: opNone}, nil
			}
			b.ints = []int64{max(n.ints[0], math.MinInt32)}
		}
	}
	if b.op == opIn && len(b.ints)+len(b.strs) == 0 {
		return boundNode{op: opNone}, nil
	}
	return b, nil
}

// String writes the filter as it was bound, for messages.
func (b *BoundFilter) String() string { return b.text }

// Match reports whether row (of the schema the filter is bound to) matches.
// An integer column's value is an int64, int32 or int, a string column's a
// string; another type is an error.
func (b *BoundFilter) Match(row Row) (bool, error) {
	return b.root.match(row)
}

func (n *boundNode) match(row Row) (bool, error) {
	switch n.op {
	case opAll:
		return true, nil
	case opNone:
		return false, nil
	case opAnd, opOr:
		for i := range n.kids {
			ok, err := n.kids[i].match(row)
			if err != nil {
				return false, err
			}
			if ok == (n.op == opOr) {
				return ok, nil
			}
		}
		return n.op == opAnd, nil
	}
	if n.pos >= len(row) {
		return false, fmt.Errorf("iceberg: filter on column %s: the row has %d values", n.name, len(row))
	}
	v := row[n.pos]
	if v == nil {
		return false, nil
	}
	if n.kind == kindString {
		s, ok := v.(string)
		if !ok {
			return false, fmt.Errorf("iceberg: filter on column %s: want a string, got %T", n.name, v)
		}
		_, found := slices.BinarySearch(n.strs, s)
		return found, nil
	}
	var x int64
	switch v := v.(type) {
	case int64:
		x = v
	case int32:
		x = int64(v)
	case int:
		x = int64(v)
	default:
		return false, fmt.Errorf("iceberg: filter on column %s: want an integer, got %T", n.name, v)
	}
	if n.op == opAtLeast {
		return x >= n.ints[0], nil
	}
	_, found := slices.BinarySearch(n.ints, x)
	return found, nil
}

// fileStats are the column statistics of a data file, by field id.
type fileStats struct {
	count        int64
	values       map[int]int64
	nulls        map[int]int64
	lower, upper map[int][]byte
}

func statsOf(df iceberg.DataFile) fileStats {
	return fileStats{
		count:  df.Count(),
		values: df.ValueCounts(),
		nulls:  df.NullValueCounts(),
		lower:  df.LowerBoundValues(),
		upper:  df.UpperBoundValues(),
	}
}

// MightMatch reports whether some row of df might match: false only when
// df's statistics prove that none does (no rows; a column of nulls only;
// bounds that leave out every value). Statistics that are missing or that
// do not decode prove nothing.
func (b *BoundFilter) MightMatch(df iceberg.DataFile) bool {
	st := statsOf(df)
	if st.count == 0 {
		return false
	}
	return b.root.mightMatch(&st)
}

// AllMatch reports whether every row of df matches, as proven by df's
// statistics (a file without rows is such a file): a copy-on-write
// overwrite drops such a file without reading it. False means not proven.
func (b *BoundFilter) AllMatch(df iceberg.DataFile) bool {
	st := statsOf(df)
	if st.count == 0 {
		return true
	}
	return b.root.allMatch(&st)
}

func (n *boundNode) mightMatch(st *fileStats) bool {
	switch n.op {
	case opAll:
		return true
	case opNone:
		return false
	case opAnd, opOr:
		for i := range n.kids {
			if ok := n.kids[i].mightMatch(st); ok == (n.op == opOr) {
				return ok
			}
		}
		return n.op == opAnd
	}
	if n.onlyNulls(st) {
		return false
	}
	if n.kind == kindString {
		// opIn: strings have no AtLeast.
		lo, hasLo, hi, hasHi := stringBounds(st, n.id)
		i := 0
		if hasLo {
			i, _ = slices.BinarySearch(n.strs, lo)
		}
		return i < len(n.strs) && (!hasHi || n.strs[i] <= hi)
	}
	lo, hasLo, hi, hasHi := intBounds(st, n.id, n.kind)
	if n.op == opAtLeast {
		return !hasHi || hi >= n.ints[0]
	}
	i := 0
	if hasLo {
		i, _ = slices.BinarySearch(n.ints, lo)
	}
	return i < len(n.ints) && (!hasHi || n.ints[i] <= hi)
}

func (n *boundNode) allMatch(st *fileStats) bool {
	switch n.op {
	case opAll:
		return true
	case opNone:
		return false
	case opAnd:
		for i := range n.kids {
			if !n.kids[i].allMatch(st) {
				return false
			}
		}
		return true
	case opOr:
		// Sound, not complete: rows matching different parts are not
		// told apart by the statistics.
		for i := range n.kids {
			if n.kids[i].allMatch(st) {
				return true
			}
		}
		return false
	}
	if nulls, ok := st.nulls[n.id]; ok && nulls != 0 || !ok && !n.required {
		return false // a null matches nothing
	}
	if n.kind == kindString {
		// The bounds may be truncated, but a lower bound equal to the
		// upper one is every value.
		lo, hasLo, hi, hasHi := stringBounds(st, n.id)
		if !hasLo || !hasHi || lo != hi {
			return false
		}
		_, found := slices.BinarySearch(n.strs, lo)
		return found
	}
	lo, hasLo, hi, hasHi := intBounds(st, n.id, n.kind)
	if n.op == opAtLeast {
		return hasLo && lo >= n.ints[0]
	}
	if !hasLo || !hasHi {
		return false
	}
	// Every integer of [lo, hi] is a value: the distinct sorted values
	// from lo to hi are as many as the integers.
	i, foundLo := slices.BinarySearch(n.ints, lo)
	j, foundHi := slices.BinarySearch(n.ints, hi)
	return foundLo && foundHi && uint64(hi)-uint64(lo) == uint64(j-i)
}

// onlyNulls reports whether the statistics prove that every value of the
// column is null.
func (n *boundNode) onlyNulls(st *fileStats) bool {
	nulls, ok := st.nulls[n.id]
	if !ok || nulls <= 0 {
		return false
	}
	if values, ok := st.values[n.id]; ok {
		return nulls == values
	}
	return nulls == st.count // a top-level column has a value per row
}

// intBounds returns the bounds of an integer column that decode, and are
// in order.
func intBounds(st *fileStats, id int, k kind) (lo int64, hasLo bool, hi int64, hasHi bool) {
	lo, hasLo = decodeIntBound(k == kindLong, st.lower[id])
	hi, hasHi = decodeIntBound(k == kindLong, st.upper[id])
	if hasLo && hasHi && lo > hi {
		return 0, false, 0, false // contradictory: trust neither
	}
	return lo, hasLo, hi, hasHi
}

// stringBounds returns the bounds of a string column, and whether they
// are in order. A truncated lower bound is a prefix of the least value;
// a truncated upper bound is a prefix of the greatest value with its last
// code point incremented: both still bound the values in byte order,
// which is the order of code points.
func stringBounds(st *fileStats, id int) (lo string, hasLo bool, hi string, hasHi bool) {
	l, u := st.lower[id], st.upper[id]
	hasLo, hasHi = l != nil, u != nil
	if hasLo && hasHi && string(l) > string(u) {
		return "", false, "", false
	}
	return string(l), hasLo, string(u), hasHi
}

// decodeIntBound decodes an integer bound in Iceberg's single-value
// serialisation: 4 bytes little-endian for an int, 8 for a long (or 4, a
// bound written before the column was promoted from int to long). ok is
// false for anything else, nil included.
func decodeIntBound(long bool, b []byte) (v int64, ok bool) {
	switch {
	case len(b) == 4:
		return int64(int32(binary.LittleEndian.Uint32(b))), true
	case len(b) == 8 && long:
		return int64(binary.LittleEndian.Uint64(b)), true
	}
	return 0, false
}
