package quality

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultSuite(t *testing.T) {
	s := Default()
	if s.Source != DefaultSource || len(s.Expectations) < 10 {
		t.Fatalf("default suite: %s with %d expectations", s.Source, len(s.Expectations))
	}
	kinds := map[Kind]int{}
	for _, e := range s.Expectations {
		kinds[e.Kind]++
	}
	if kinds[KindRow] == 0 || kinds[KindTable] == 0 {
		t.Errorf("the default suite should have row and table rules: %v", kinds)
	}
	if got := s.Refs(); !slices.Contains(got, Ref{"hr_employees", "employee_id"}) {
		t.Errorf("Refs() = %v, want hr_employees.employee_id (employee_exists)", got)
	}
	// Load with no path is the default suite.
	if l, err := Load(""); err != nil || l.Source != DefaultSource {
		t.Errorf("Load(\"\") = %v, %v", l, err)
	}
}

func TestParseReadsWhatRulesUse(t *testing.T) {
	s, err := Parse("t.yaml", []byte(`
expectations:
  - name: r
    table: sport_activities
    row: "row.distance_m > 0.0 && has(row.comment) && row['sport_type'] != '' && exists_in('hr_employees', 'employee_id', row.employee_id)"
    severity: warning
  - name: t
    table: sport_activities
    table_rule: "table.rows == table.distinct.id && table.nulls['comment'] == 0 && now - table.max.updated_at < duration('1h') && has(table.min.start_time)"
`))
	if err != nil {
		t.Fatal(err)
	}
	r, tr := s.Expectations[0], s.Expectations[1]
	if r.Kind != KindRow || r.Severity != Warning || strings.Join(r.Columns(), ",") != "comment,distance_m,employee_id,sport_type" {
		t.Errorf("row rule: kind %s, severity %s, columns %v", r.Kind, r.Severity, r.Columns())
	}
	if tr.Kind != KindTable || tr.Severity != Error {
		t.Errorf("table rule: kind %s, severity %s", tr.Kind, tr.Severity)
	}
	want := map[string][]string{"distinct": {"id"}, "nulls": {"comment"}, "max": {"updated_at"}, "min": {"start_time"}}
	for k, cols := range want {
		if !slices.Equal(tr.aggs[k], cols) {
			t.Errorf("aggregates %s = %v, want %v", k, tr.aggs[k], cols)
		}
	}
	if !slices.Equal(s.Refs(), []Ref{{"hr_employees", "employee_id"}}) {
		t.Errorf("refs %v", s.Refs())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		line       int
		want       []string
	}{
		{"not yaml", "expectations: [", 0, []string{"not a YAML suite"}},
		{"no expectations", "other: 1\n", 0, []string{"no expectations"}},
		{"no name", "expectations:\n  - table: t\n    row: 'true'\n", 2, []string{"has no name"}},
		{"no table", "expectations:\n  - name: a\n    row: 'true'\n", 2, []string{`expectation "a"`, "table is missing"}},
		{"both", "expectations:\n  - name: a\n    table: t\n    row: 'true'\n    table_rule: 'true'\n", 2, []string{"not both"}},
		{"neither", "expectations:\n  - name: a\n    table: t\n", 2, []string{"give a CEL expression"}},
		{"severity", "expectations:\n  - name: a\n    table: t\n    row: 'true'\n    severity: fatal\n", 2, []string{`severity "fatal"`}},
		{"unknown field", "expectations:\n  - name: a\n    table: t\n    rows: 'true'\n", 4, []string{`unknown field "rows"`}},
		{"duplicate", "expectations:\n  - name: a\n    table: t\n    row: 'true'\n  - name: a\n    table: t\n    row: 'true'\n", 5,
			[]string{"used twice (first on line 2)"}},
		{"syntax", "expectations:\n  - name: dist\n    table: t\n    row: \"row.distance_m >= \"\n", 4,
			[]string{`expectation "dist"`, "row: CEL error at line 1, column", "Syntax error"}},
		{"syntax in a block", "expectations:\n  - name: dist\n    table: t\n    row: |\n      row.a > 1 &&\n      rw.b > 2\n", 6,
			[]string{"CEL error at line 2, column 1", "undeclared reference to 'rw'"}},
		{"undeclared", "expectations:\n  - name: a\n    table: t\n    row: \"rw.distance_m > 0.0\"\n", 4, []string{"undeclared reference to 'rw'"}},
		{"unknown function", "expectations:\n  - name: a\n    table: t\n    row: \"employee_exist(row.employee_id)\"\n", 4,
			[]string{"undeclared reference to 'employee_exist'"}},
		{"not a bool", "expectations:\n  - name: a\n    table: t\n    row: \"1 + 2\"\n", 2, []string{"must be true or false"}},
		{"row in a table rule", "expectations:\n  - name: a\n    table: t\n    table_rule: \"row.x == 1\"\n", 2, []string{"a table rule sees table"}},
		{"table in a row rule", "expectations:\n  - name: a\n    table: t\n    row: \"table.rows == 1\"\n", 2, []string{"a row rule sees row"}},
		{"aggregate without column", "expectations:\n  - name: a\n    table: t\n    table_rule: \"size(table.max) == 1\"\n", 2, []string{"name the column"}},
		{"unknown aggregate", "expectations:\n  - name: a\n    table: t\n    table_rule: \"table.avg.x == 1\"\n", 2, []string{"table.avg"}},
		{"exists_in needs literals", "expectations:\n  - name: a\n    table: t\n    row: \"exists_in(row.t, 'id', 1)\"\n", 2,
			[]string{"must be quoted lower-case names"}},
		{"bad table name", "expectations:\n  - name: a\n    table: 'x; drop'\n    row: 'true'\n", 2, []string{"lower-case SQL table name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("suite.yaml", []byte(tt.yaml))
			var se *SuiteError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *SuiteError", err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "suite.yaml") {
				t.Errorf("error %q does not name the file", msg)
			}
			if se.Line != tt.line {
				t.Errorf("line %d, want %d: %s", se.Line, tt.line, msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	var se *SuiteError
	if !errors.As(err, &se) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
}

// TestCheckRow evaluates row rules on rows as the processor builds them:
// typed values, absent NULLs, warnings after errors, values of personal
// columns hidden.
func TestCheckRow(t *testing.T) {
	s, err := Parse("t.yaml", []byte(`
expectations:
  - name: comment_set
    table: t
    row: "has(row.comment)"
  - name: reads_comment
    table: t
    row: "row.comment != 'x'"
  - name: recent
    table: t
    row: "now - row.at < duration('1h')"
    severity: warning
  - name: count_int
    table: t
    row: "row.n >= 1"
  - name: salary
    table: hr_employees
    row: "row.gross_salary > 0.0 && row.employee_id != ''"
`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		table string
		row   Row
		want  []string // rule:severity:message
	}{
		{"good", "t", Row{"comment": "ok", "at": now.Add(-time.Minute), "n": int64(2)}, nil},
		{"null comment", "t", Row{"at": now, "n": int64(2)}, []string{"comment_set:error:false", "reads_comment:error:no such key: comment"}},
		{"old is a warning, last", "t", Row{"comment": "x", "at": now.Add(-2 * time.Hour), "n": int64(0)},
			[]string{"reads_comment:error:false", "count_int:error:false", "recent:warning:false"}},
		{"salary", "hr_employees", Row{"employee_id": "E1", "gross_salary": -5.0}, []string{"salary:error:false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fails, err := s.CheckRow(tt.table, tt.row, now, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fails {
				got = append(got, string(f.Rule)+":"+string(f.Severity)+":"+f.Message)
				if _, leaked := f.Values["gross_salary"]; leaked {
					t.Errorf("failure %s shows the salary: %v", f.Rule, f.Values)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("failures %q, want %q", got, tt.want)
			}
		})
	}
}
