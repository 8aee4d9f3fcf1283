package dashboard

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Chart is a line chart drawn as inline SVG by the "chart" template: the
// geometry is computed here, the markup (and its escaping) is the
// template's.
type Chart struct {
	// ID prefixes the ids of the SVG's title and description.
	ID string
	// Title and Desc are the chart's accessible name and description.
	Title, Desc string
	// Width and Height are the viewBox size.
	Width, Height int
	// Left, Top, Right and Bottom bound the plot area.
	Left, Top, Right, Bottom float64
	// XLabel and YLabel name the axes.
	XLabel, YLabel string
	// YTickX is where the y tick labels end, XTickY the baseline of the x
	// tick labels, XLabelY the x axis name's baseline, YLabelY the y axis
	// name's (above the plot).
	YTickX, XTickY, XLabelY, YLabelY float64
	XTicks, YTicks                   []Tick
	Lines                            []ChartLine
}

// Tick is a gridline or an axis label at Pos (x for the x axis, y for the
// y axis).
type Tick struct {
	Pos   float64
	Label string
}

// ChartLine is one series of a chart.
type ChartLine struct {
	// Label is the short name drawn at the line's end (a driver code);
	// Name the legend's.
	Label, Name string
	// Colour is the team colour, 6 hex digits (or "" for the muted colour).
	Colour string
	// Dashed tells a team's second line from its first.
	Dashed bool
	// Points is the SVG polyline: "x,y x,y ...".
	Points string
	// DotX, DotY mark the line's last point; EndX, EndY place the end
	// label; Value is the line's last value.
	DotX, DotY float64
	EndX, EndY float64
	Value      string
}

// series is a chart line's data before layout.
type series struct {
	label, name, colour string
	dashed              bool
	values              []float64
}

// Charts is a chart laid out twice: for wide screens and for phones (the
// page shows one of them), so that its text stays readable on both.
type Charts struct {
	Wide, Narrow Chart
}

// Chart geometry, in viewBox units (CSS pixels at the natural size).
const (
	wideWidth    = 560
	wideHeight   = 300
	narrowWidth  = 360
	narrowHeight = 260
	marginLeft   = 44
	marginTop    = 32 // room for the y axis name
	marginBot    = 44
	labelGap     = 16 // minimal vertical distance between two end labels: a 13-unit label's box is about 15 high
	endLabelX    = 8  // from a line's last point to its end label
	endLabelChar = 10 // the widest character of an end label (bold, 13 units), for the room on the right
)

// marginRight returns the room right of the plot for the end labels of ss.
func marginRight(ss []series) float64 {
	most := 0
	for _, s := range ss {
		most = max(most, len([]rune(s.label)))
	}
	return endLabelX + float64(endLabelChar*most) + 4
}

// lineCharts lays out series over the x labels xs (one per value), for
// wide and narrow screens.
func lineCharts(id, title, desc, xLabel, yLabel string, xs []string, ss []series) Charts {
	return Charts{
		Wide:   lineChart(id, title, desc, xLabel, yLabel, xs, ss, wideWidth, wideHeight),
		Narrow: lineChart(id+"-narrow", title, desc, xLabel, yLabel, xs, ss, narrowWidth, narrowHeight),
	}
}

// lineChart lays out series over the x labels xs (one per value) in a
// width × height viewBox.
func lineChart(id, title, desc, xLabel, yLabel string, xs []string, ss []series, width, height int) Chart {
	c := Chart{ID: id, Title: title, Desc: desc, Width: width, Height: height,
		Left: marginLeft, Top: marginTop, Right: float64(width) - marginRight(ss), Bottom: float64(height - marginBot),
		XLabel: xLabel, YLabel: yLabel}
	c.YTickX, c.XTickY, c.XLabelY, c.YLabelY = c.Left-6, c.Bottom+18, c.Bottom+36, 14
	n := len(xs)
	if n == 0 {
		return c
	}
	maxV := 0.0
	for _, s := range ss {
		for _, v := range s.values {
			maxV = max(maxV, v)
		}
	}
	step, top := niceScale(maxV)
	x := func(i int) float64 {
		if n == 1 {
			return (c.Left + c.Right) / 2
		}
		return c.Left + float64(i)*(c.Right-c.Left)/float64(n-1)
	}
	y := func(v float64) float64 { return c.Bottom - v/top*(c.Bottom-c.Top) }
	for v := 0.0; v <= top+step/2; v += step {
		c.YTicks = append(c.YTicks, Tick{Pos: round1(y(v)), Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	every := max(1, int(math.Ceil(float64(n)*40/(c.Right-c.Left)))) // a label per 40 units at most
	for i, l := range xs {
		if i%every == 0 || i == n-1 {
			c.XTicks = append(c.XTicks, Tick{Pos: round1(x(i)), Label: l})
		}
	}
	// Drop a tick crowding the last one.
	if k := len(c.XTicks); k >= 2 && c.XTicks[k-1].Pos-c.XTicks[k-2].Pos < 24 {
		c.XTicks = slices.Delete(c.XTicks, k-2, k-1)
	}
	for _, s := range ss {
		var b strings.Builder
		for i, v := range s.values {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.FormatFloat(round1(x(i)), 'f', -1, 64))
			b.WriteByte(',')
			b.WriteString(strconv.FormatFloat(round1(y(v)), 'f', -1, 64))
		}
		last := 0.0
		if len(s.values) > 0 {
			last = s.values[len(s.values)-1]
		}
		c.Lines = append(c.Lines, ChartLine{Label: s.label, Name: s.name, Colour: s.colour, Dashed: s.dashed,
			Points: b.String(), DotX: round1(x(len(s.values) - 1)), DotY: round1(y(last)),
			EndX: round1(x(len(s.values)-1) + endLabelX), EndY: y(last) + 4, Value: formatPoints(last)})
	}
	spreadLabels(c.Lines, c.Top+4, c.Bottom)
	return c
}

// spreadLabels moves the end labels apart vertically so that they do not
// overlap, keeping them between lo and hi where possible.
func spreadLabels(lines []ChartLine, lo, hi float64) {
	idx := make([]int, len(lines))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case lines[a].EndY < lines[b].EndY:
			return -1
		case lines[a].EndY > lines[b].EndY:
			return 1
		}
		return 0
	})
	prev := lo - labelGap
	for _, i := range idx {
		lines[i].EndY = max(lines[i].EndY, prev+labelGap)
		prev = lines[i].EndY
	}
	// Pushed below the plot: shift everything up as far as needed.
	if over := prev - hi; over > 0 && len(idx) > 0 {
		next := hi + labelGap
		for k := len(idx) - 1; k >= 0; k-- {
			i := idx[k]
			lines[i].EndY = min(lines[i].EndY, next-labelGap)
			next = lines[i].EndY
		}
	}
	for i := range lines {
		lines[i].EndY = round1(lines[i].EndY)
	}
}

// niceScale returns a tick step (1, 2 or 5 times a power of ten) giving
// about five ticks up to maxV, and the axis top (a multiple of step at or
// above maxV).
func niceScale(maxV float64) (step, top float64) {
	if maxV <= 0 {
		return 1, 5
	}
	raw := maxV / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	return step, math.Ceil(maxV/step) * step
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
