package lakehouse

import (
	"github.com/apache/iceberg-go"
)

// Filter selects rows by their values, for Overwrite, Delete and Scan. The
// zero Filter selects every row. Iceberg prunes the data files whose column
// statistics cannot match.
type Filter struct {
	e iceberg.BooleanExpression
}

func (f Filter) expr() iceberg.BooleanExpression {
	if f.e == nil {
		return iceberg.AlwaysTrue{}
	}
	return f.e
}

// All selects every row.
func All() Filter { return Filter{} }

// None selects no row.
func None() Filter { return Filter{e: iceberg.AlwaysFalse{}} }

// InInt64 selects the rows whose column col holds one of vs (an Int64
// column). With no values it selects nothing.
func InInt64(col string, vs ...int64) Filter {
	if len(vs) == 0 {
		return None()
	}
	return Filter{e: iceberg.IsIn(iceberg.Reference(col), vs...)}
}

// InString selects the rows whose column col holds one of vs (a String
// column). With no values it selects nothing.
func InString(col string, vs ...string) Filter {
	if len(vs) == 0 {
		return None()
	}
	return Filter{e: iceberg.IsIn(iceberg.Reference(col), vs...)}
}

// EqInt64 selects the rows whose column col equals v.
func EqInt64(col string, v int64) Filter {
	return Filter{e: iceberg.EqualTo(iceberg.Reference(col), v)}
}

// EqInt32 selects the rows whose column col (an Int32 column) equals v.
func EqInt32(col string, v int32) Filter {
	return Filter{e: iceberg.EqualTo(iceberg.Reference(col), v)}
}

// AtLeastInt64 selects the rows whose column col (an Int64 column) is v or
// more.
func AtLeastInt64(col string, v int64) Filter {
	return Filter{e: iceberg.GreaterThanEqual(iceberg.Reference(col), v)}
}

// EqString selects the rows whose column col equals v.
func EqString(col string, v string) Filter {
	return Filter{e: iceberg.EqualTo(iceberg.Reference(col), v)}
}

// Or selects the rows any of fs selects.
func Or(fs ...Filter) Filter {
	switch len(fs) {
	case 0:
		return None()
	case 1:
		return fs[0]
	}
	rest := make([]iceberg.BooleanExpression, 0, len(fs)-2)
	for _, f := range fs[2:] {
		rest = append(rest, f.expr())
	}
	return Filter{e: iceberg.NewOr(fs[0].expr(), fs[1].expr(), rest...)}
}

// And selects the rows every one of fs selects.
func And(fs ...Filter) Filter {
	switch len(fs) {
	case 0:
		return All()
	case 1:
		return fs[0]
	}
	rest := make([]iceberg.BooleanExpression, 0, len(fs)-2)
	for _, f := range fs[2:] {
		rest = append(rest, f.expr())
	}
	return Filter{e: iceberg.NewAnd(fs[0].expr(), fs[1].expr(), rest...)}
}
