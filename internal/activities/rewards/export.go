package rewards

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/xuri/excelize/v2"
)

// Format is an output format of the report.
type Format string

// The report formats.
const (
	FormatTable Format = "table" // aligned text, for a terminal
	FormatCSV   Format = "csv"   // one tidy table: section, key, metric, value
	FormatJSON  Format = "json"  // Summary as JSON
	FormatXLSX  Format = "xlsx"  // an Excel workbook, a sheet per table
)

// Formats lists the report formats.
var Formats = []Format{FormatTable, FormatCSV, FormatJSON, FormatXLSX}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown report format %q: want table, csv, json or xlsx", s)
}

// Write writes s to w in format f.
func Write(w io.Writer, s Summary, f Format) error {
	switch f {
	case FormatTable:
		return WriteTable(w, s)
	case FormatCSV:
		return WriteCSV(w, s)
	case FormatJSON:
		return WriteJSON(w, s)
	case FormatXLSX:
		return WriteXLSX(w, s)
	}
	return fmt.Errorf("unknown report format %q", f)
}

// totals are the headline figures of s, in order, as name and value.
func (s Summary) totals() [][2]any {
	return [][2]any{
		{"year", s.Year},
		{"employees", s.Employees},
		{"activities", s.Activities},
		{"distance_km", s.DistanceKm},
		{"bonus_total_eur", s.BonusTotalEUR},
		{"eligible_employees", s.EligibleEmployees},
		{"flagged_declarations", s.FlaggedDeclarations},
		{"wellness_days_total", s.WellnessDaysTotal},
		{"employees_with_wellness", s.EmployeesWithWellness},
	}
}

// tables are the detail tables of s: name, header and rows.
func (s Summary) tables() []table {
	bu := table{name: "By business unit", header: []string{"business_unit", "employees", "eligible", "bonus_eur", "wellness_days", "activities"}}
	for _, u := range s.ByBusinessUnit {
		bu.rows = append(bu.rows, []any{u.BusinessUnit, u.Employees, u.Eligible, u.BonusEUR, u.WellnessDays, u.Activities})
	}
	sp := table{name: "Top sports", header: []string{"sport", "activities", "employees", "distance_km"}}
	for _, x := range s.TopSports {
		sp.rows = append(sp.rows, []any{x.Sport, x.Activities, x.Employees, x.DistanceKm})
	}
	mo := table{name: "Monthly", header: []string{"month", "activities", "distance_km"}}
	for _, m := range s.Monthly {
		mo.rows = append(mo.rows, []any{m.Month, m.Activities, m.DistanceKm})
	}
	return []table{bu, sp, mo}
}

type table struct {
	name   string
	header []string
	rows   [][]any
}

// text formats a value for text outputs: floats without exponent, integers
// as integers.
func text(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// WriteTable writes s as aligned text tables.
func WriteTable(w io.Writer, s Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range s.totals() {
		fmt.Fprintf(tw, "%s\t%s\n", t[0], text(t[1]))
	}
	for _, t := range s.tables() {
		fmt.Fprintf(tw, "\n%s\n", t.name)
		for i, h := range t.header {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, h)
		}
		fmt.Fprintln(tw)
		for _, r := range t.rows {
			for i, v := range r {
				if i > 0 {
					fmt.Fprint(tw, "\t")
				}
				fmt.Fprint(tw, text(v))
			}
			fmt.Fprintln(tw)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteCSV writes s as one tidy table (section, key, metric, value), UTF-8
// with a byte order mark so that Excel reads accents right; Power BI
// pivots it by section and metric.
func WriteCSV(w io.Writer, s Summary) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"section", "key", "metric", "value"})
	for _, t := range s.totals() {
		_ = cw.Write([]string{"total", "", t[0].(string), text(t[1])})
	}
	sections := []string{"business_unit", "sport", "month"}
	for i, t := range s.tables() {
		for _, r := range t.rows {
			for j := 1; j < len(r); j++ {
				_ = cw.Write([]string{sections[i], text(r[0]), t.header[j], text(r[j])})
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteJSON writes s as indented JSON.
func WriteJSON(w io.Writer, s Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteXLSX writes s as an Excel workbook: a "Summary" sheet of the totals
// and a sheet per detail table, numbers as numbers.
func WriteXLSX(w io.Writer, s Summary) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write report workbook: %w", cerr)
		}
	}()
	const first = "Summary"
	if err := f.SetSheetName("Sheet1", first); err != nil {
		return fmt.Errorf("write report workbook: %w", err)
	}
	rows := [][]any{{"metric", "value"}}
	for _, t := range s.totals() {
		rows = append(rows, []any{t[0], t[1]})
	}
	if err := setRows(f, first, rows); err != nil {
		return err
	}
	for _, t := range s.tables() {
		if _, err := f.NewSheet(t.name); err != nil {
			return fmt.Errorf("write report workbook: sheet %s: %w", t.name, err)
		}
		rows := [][]any{toAny(t.header)}
		rows = append(rows, t.rows...)
		if err := setRows(f, t.name, rows); err != nil {
			return err
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write report workbook: %w", err)
	}
	return nil
}

func setRows(f *excelize.File, sheet string, rows [][]any) error {
	for i, r := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return fmt.Errorf("write report workbook: %w", err)
		}
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			return fmt.Errorf("write report workbook: sheet %s row %d: %w", sheet, i+1, err)
		}
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
