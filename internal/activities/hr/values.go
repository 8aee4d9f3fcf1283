package hr

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

var (
	// dd/mm/yyyy, d/m/yy, dd-mm-yyyy, dd.mm.yyyy, optionally followed by a
	// time (a date cell exported with its time part).
	dmyRE = regexp.MustCompile(`^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$`)
	// yyyy-mm-dd, yyyy/mm/dd, optionally followed by a time and a zone.
	ymdRE = regexp.MustCompile(`^(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+\-]\d{2}:?\d{2})?)?$`)
)

// parseDate reads a date as registers hold it: an Excel date serial (a date
// cell read raw, or a serial exported as text), dd/mm/yyyy (French order;
// also with '-' or '.', and two-digit years) or yyyy-mm-dd (ISO). It
// returns midnight UTC of that day. today sets the century of two-digit
// years: a year not after today's is this century's, others the previous
// one's.
func parseDate(s string, date1904 bool, today time.Time) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		// The serials of 1900-01-01 to 9999-12-31.
		if f < 1 || f > 2958465 || math.IsNaN(f) {
			return time.Time{}, false
		}
		t, err := excelize.ExcelDateToTime(f, date1904)
		if err != nil {
			return time.Time{}, false
		}
		return midnight(t.Year(), int(t.Month()), t.Day())
	}
	if m := ymdRE.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		return midnight(y, mo, d)
	}
	if m := dmyRE.FindStringSubmatch(s); m != nil {
		d, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		y, _ := strconv.Atoi(m[3])
		if len(m[3]) == 2 {
			century := today.Year() / 100 * 100
			if y+century > today.Year() {
				century -= 100
			}
			y += century
		}
		return midnight(y, mo, d)
	}
	return time.Time{}, false
}

// midnight returns the date y-m-d at midnight UTC, rejecting dates that do
// not exist (31/02).
func midnight(y, m, d int) (time.Time, bool) {
	if y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m {
		return time.Time{}, false
	}
	return t, true
}

// parseNumber reads a number as spreadsheets write it: "42000", "42 000",
// "42 000,50" (French, with plain or non-breaking spaces), "42,000.50"
// (English), "42000 €", "43,5673", "-3.9". A lone comma is the decimal
// separator, as in French files; with both a comma and a point, the last
// one is.
func parseNumber(s string) (float64, bool) {
	s = cleanCell(s)
	for _, unit := range []string{"€", "EUR", "eur", "euros", "Euros", "jours", "j"} {
		s = strings.TrimSpace(strings.TrimSuffix(s, unit))
	}
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\'' || r == '’' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return 0, false
	}
	comma, point := strings.Count(s, ","), strings.Count(s, ".")
	switch {
	case comma > 0 && point > 0:
		if strings.LastIndex(s, ",") > strings.LastIndex(s, ".") {
			s = strings.ReplaceAll(s, ".", "")
			s = strings.Replace(s, ",", ".", 1)
		} else {
			s = strings.ReplaceAll(s, ",", "")
		}
	case comma == 1:
		s = strings.Replace(s, ",", ".", 1)
	case comma > 1:
		s = strings.ReplaceAll(s, ",", "")
	case point > 1:
		s = strings.ReplaceAll(s, ".", "")
	}
	if strings.ContainsAny(s, ",") || strings.Count(s, ".") > 1 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// age returns how many whole years separate birth from at.
func age(birth, at time.Time) int {
	years := at.Year() - birth.Year()
	if at.Month() < birth.Month() || (at.Month() == birth.Month() && at.Day() < birth.Day()) {
		years--
	}
	return years
}
