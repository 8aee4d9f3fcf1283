package rewards

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func sampleSummary() Summary {
	return Summary{Year: 2025, Employees: 3, Activities: 40, DistanceKm: 321.5, BonusTotalEUR: 3750.5,
		EligibleEmployees: 2, FlaggedDeclarations: 1, WellnessDaysTotal: 10, EmployeesWithWellness: 2,
		ByBusinessUnit: []BusinessUnit{{BusinessUnit: "Finance", Employees: 1, Eligible: 1, BonusEUR: 2000, WellnessDays: 5, Activities: 20},
			{BusinessUnit: "Ventes & Marketing", Employees: 2, Eligible: 1, BonusEUR: 1750.5, WellnessDays: 5, Activities: 20}},
		TopSports: []Sport{{Sport: "Run", Activities: 30, Employees: 2, DistanceKm: 300}, {Sport: "Yoga", Activities: 10, Employees: 1}},
		Monthly:   []Month{{Month: 1, Activities: 40, DistanceKm: 321.5}, {Month: 2}},
	}
}

func TestWrite(t *testing.T) {
	s := sampleSummary()
	tests := []struct {
		format Format
		check  func(t *testing.T, out []byte)
	}{
		{FormatTable, func(t *testing.T, out []byte) {
			for _, want := range []string{"bonus_total_eur          3750.5", "By business unit", "Ventes & Marketing", "Top sports", "Monthly"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("table lacks %q:\n%s", want, out)
				}
			}
		}},
		{FormatJSON, func(t *testing.T, out []byte) {
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"bonus_total_eur", "eligible_employees", "wellness_days_total", "by_business_unit", "top_sports", "monthly", "flagged_declarations", "employees_with_wellness"} {
				if _, ok := m[k]; !ok {
					t.Errorf("JSON lacks %q: %s", k, out)
				}
			}
			var back Summary
			if err := json.Unmarshal(out, &back); err != nil || back.BonusTotalEUR != s.BonusTotalEUR || len(back.ByBusinessUnit) != 2 {
				t.Errorf("JSON does not round-trip: %+v, %v", back, err)
			}
		}},
		{FormatCSV, func(t *testing.T, out []byte) {
			if !bytes.HasPrefix(out, []byte("\ufeff")) {
				t.Errorf("CSV lacks the byte order mark Excel needs")
			}
			recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out, []byte("\ufeff")))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{
				"total,,bonus_total_eur,3750.5": false, "business_unit,Ventes & Marketing,bonus_eur,1750.5": false,
				"sport,Run,activities,30": false, "month,1,distance_km,321.5": false,
			}
			for _, r := range recs {
				if len(r) != 4 {
					t.Fatalf("CSV row %v: want 4 fields", r)
				}
				if _, ok := want[strings.Join(r, ",")]; ok {
					want[strings.Join(r, ",")] = true
				}
			}
			for row, seen := range want {
				if !seen {
					t.Errorf("CSV lacks row %s", row)
				}
			}
		}},
		{FormatXLSX, func(t *testing.T, out []byte) {
			f, err := excelize.OpenReader(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := strings.Join(f.GetSheetList(), "|"); got != "Summary|By business unit|Top sports|Monthly" {
				t.Errorf("sheets %s", got)
			}
			v, err := f.GetCellValue("Summary", "B6")
			if err != nil || v != "3750.5" {
				t.Errorf("Summary!B6 (bonus_total_eur) = %q, %v", v, err)
			}
			v, err = f.GetCellValue("By business unit", "D3")
			if err != nil || v != "1750.5" {
				t.Errorf("By business unit!D3 = %q, %v", v, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, s, tt.format); err != nil {
				t.Fatal(err)
			}
			tt.check(t, buf.Bytes())
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{{"table", true}, {"csv", true}, {"json", true}, {"xlsx", true}, {"pdf", false}, {"", false}} {
		if _, err := ParseFormat(tt.in); (err == nil) != tt.ok {
			t.Errorf("ParseFormat(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
