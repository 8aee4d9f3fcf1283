package lakehouse

import (
	podice "github.com/podiumhq/podium/internal/iceberg"
)

// Filter selects rows by their values, for Overwrite, Delete and Scan: the
// filters of internal/iceberg, bound to the table's schema when used. The
// zero Filter selects every row. Data files whose column statistics
// cannot match are not read, and those whose every row matches are
// dropped unread.
type Filter = podice.Filter

// All selects every row.
func All() Filter { return podice.All() }

// None selects no row.
func None() Filter { return podice.None() }

// InInt64 selects the rows whose column col holds one of vs (an Int64 or
// Int32 column). With no values it selects nothing.
func InInt64(col string, vs ...int64) Filter { return podice.InInt64(col, vs...) }

// InString selects the rows whose column col holds one of vs (a String
// column). With no values it selects nothing.
func InString(col string, vs ...string) Filter { return podice.InString(col, vs...) }

// EqInt64 selects the rows whose column col equals v.
func EqInt64(col string, v int64) Filter { return podice.EqInt64(col, v) }

// EqInt32 selects the rows whose column col (an Int32 column) equals v.
func EqInt32(col string, v int32) Filter { return podice.EqInt32(col, v) }

// AtLeastInt64 selects the rows whose column col (an Int64 column) is v or
// more.
func AtLeastInt64(col string, v int64) Filter { return podice.AtLeastInt64(col, v) }

// EqString selects the rows whose column col equals v.
func EqString(col string, v string) Filter { return podice.EqString(col, v) }

// Or selects the rows any of fs selects; Or() selects none.
func Or(fs ...Filter) Filter { return podice.Or(fs...) }

// And selects the rows every one of fs selects; And() selects every row.
func And(fs ...Filter) Filter { return podice.And(fs...) }
