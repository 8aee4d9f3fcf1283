package rewards

import (
	"math"
	"strconv"
	"time"
)

// Exact units. Gold figures are sums over activities, kept by deltas (SQL)
// or recomputed (lakehouse) in batches of any size; floating-point sums
// depend on the order of their terms, so two runs of the same events in
// other batches differed in the last digits. Sums are therefore kept in
// integers: distances in whole metres, money in cents. Integer sums do
// not depend on order, so any batching gives byte-identical tables.

// Meters is the distance an activity counts for in the sums: its distance
// in metres rounded to the nearest whole metre, halves to even. Halves are
// common (sources give tenths of a metre); rounding them all up would add
// 5 cm per activity on average, 250 m to a year of 5,000 activities, and
// move the report's totals. A value that is not a finite number counts for
// nothing (data quality quarantines such events before they get here). The
// rewards migration 0003 computes the same in SQL.
func Meters(distanceM float64) int64 {
	if math.IsNaN(distanceM) || math.IsInf(distanceM, 0) || math.Abs(distanceM) >= 1<<53 {
		return 0
	}
	return int64(math.RoundToEven(distanceM))
}

// Km returns m metres in kilometres: the distance_km columns, derived
// from the exact distance_m (the same float64 for the same metres).
func Km(m int64) float64 { return float64(m) / 1000 }

// Cents is an amount of euros in cents: numeric(12,2) without rounding.
type Cents int64

// CentsOf rounds euros to the cent, halves away from zero.
func CentsOf(eur float64) Cents { return Cents(math.Round(eur * 100)) }

// EUR returns c in euros, for displays and the float columns of BI tools.
func (c Cents) EUR() float64 { return float64(c) / 100 }

// String writes c as numeric(12,2) writes it: "1234.50", "-0.05".
func (c Cents) String() string {
	n := int64(c)
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	frac := strconv.FormatInt(n%100, 10)
	if len(frac) == 1 {
		frac = "0" + frac
	}
	return sign + strconv.FormatInt(n/100, 10) + "." + frac
}

// SportKey is an employee, a year and a sport: the unit of the per-sport
// figures gold rows are computed from.
type SportKey struct {
	Employee string
	Year     int
	Sport    string
}

// Count is the aggregation rule of the rewards, the one both gold paths
// (the SQL processor's deltas, the lakehouse's recomputation) apply: an
// activity counts once, for its employee, the calendar year of its start
// in the policy's time zone, and its sport, with its distance in whole
// metres (Meters).
func (p Policy) Count(employee string, start time.Time, sport string, distanceM float64) (SportKey, int64) {
	return SportKey{Employee: employee, Year: start.In(p.Location).Year(), Sport: sport}, Meters(distanceM)
}

// Tally sums activities per employee, year and sport.
type Tally map[SportKey]SportYear

// Add adds n activities of meters metres to k (negative to remove them).
func (t Tally) Add(k SportKey, n int, meters int64) {
	s := t[k]
	s.Sport = k.Sport
	s.Activities += n
	s.Meters += meters
	t[k] = s
}
