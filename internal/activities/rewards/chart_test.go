package rewards

import "testing"

// TestMonthlyChart checks the monthly chart's layout: a bar per month in
// the plot, the busiest reaching its top, the scale 0, half and the
// busiest, months by their initial on the narrow chart.
func TestMonthlyChart(t *testing.T) {
	months := make([]Month, 12)
	for i := range months {
		months[i] = Month{Month: i + 1, Activities: 10 * i}
	}
	for _, tc := range []struct {
		width float64
		short bool
		may   string
	}{{chartWide, false, "May"}, {chartNarrow, true, "M"}} {
		c := monthlyChart("c", 2025, months, tc.width, tc.short)
		if len(c.Bars) != 12 || c.Max != 110 {
			t.Fatalf("width %v: %d bars, max %d; want 12, 110", tc.width, len(c.Bars), c.Max)
		}
		for _, b := range c.Bars {
			if b.X < c.Left || b.X+b.W > c.Right || b.Y < c.Top-0.01 || b.Y+b.H > c.Bottom+0.01 || b.LabelX <= b.X || b.LabelX >= b.X+b.W {
				t.Errorf("width %v: bar %+v outside the plot %v-%v × %v-%v", tc.width, b, c.Left, c.Right, c.Top, c.Bottom)
			}
		}
		if b := c.Bars[11]; b.Y != c.Top || b.Month != "December" {
			t.Errorf("width %v: the busiest month's bar %+v does not reach the top %v", tc.width, b, c.Top)
		}
		if got := c.Bars[4].Label; got != tc.may {
			t.Errorf("width %v: May is labelled %q, want %q", tc.width, got, tc.may)
		}
		if len(c.Ticks) != 3 || c.Ticks[0].Value != 0 || c.Ticks[1].Value != 55 || c.Ticks[2].Value != 110 || c.Ticks[2].Y != c.Top {
			t.Errorf("width %v: ticks %+v; want 0, 55, 110 at the top", tc.width, c.Ticks)
		}
	}
	// An empty year: flat bars, a scale of 0 alone.
	empty := monthlyChart("c", 2025, make([]Month, 12), chartWide, false)
	if len(empty.Ticks) != 1 || empty.Bars[0].H != 0 {
		t.Errorf("empty year: ticks %+v, first bar %+v", empty.Ticks, empty.Bars[0])
	}
	// A busiest month of 1: no tick of 0 twice.
	months = make([]Month, 12)
	months[0].Activities = 1
	if c := monthlyChart("c", 2025, months, chartWide, false); len(c.Ticks) != 2 {
		t.Errorf("a busiest month of 1: ticks %+v, want 0 and 1", c.Ticks)
	}
}
