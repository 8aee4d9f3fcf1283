package quality

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Options tune Validate.
type Options struct {
	// Now is the evaluation time (now in the rules); zero is time.Now().
	Now time.Time
	// Samples is the number of failing rows reported per expectation;
	// 0 is 10, negative none.
	Samples int
	// Filters restrict the rows the row rules of a table see: an SQL
	// condition on the table's columns with its arguments ($1, ...).
	// Table rules always see the whole table.
	Filters map[string]Filter
}

// Filter is an SQL condition on a table's rows.
type Filter struct {
	Where string
	Args  []any
	// Describe says in words what the filter keeps, for the report.
	Describe string
}

// Report is the outcome of a validation: the JSON report's content.
type Report struct {
	Success     bool      `json:"success"`
	EvaluatedAt time.Time `json:"evaluated_at"`
	Suite       string    `json:"suite"`
	// Scope describes the filters applied to row rules ("" for none).
	Scope      string           `json:"scope,omitempty"`
	Results    []Result         `json:"results"`
	Quarantine []QuarantineRule `json:"quarantine"`
	Statistics Statistics       `json:"statistics"`
}

// Result is the outcome of one expectation.
type Result struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Table       string   `json:"table"`
	Kind        Kind     `json:"kind"`
	Expression  string   `json:"expression"`
	Success     bool     `json:"success"`
	Severity    Severity `json:"severity"`
	// Evaluated counts the rows a row rule checked (1 for a table rule).
	Evaluated int64 `json:"evaluated"`
	// Failed counts the rows that failed (0 or 1 for a table rule).
	Failed int64 `json:"failed"`
	// FailedPercent is Failed over Evaluated, in percent.
	FailedPercent float64 `json:"failed_percent"`
	// Samples are up to Options.Samples failing rows.
	Samples []Sample `json:"samples"`
	// Observed are the aggregates a table rule read (only those that may
	// be shown).
	Observed map[string]any `json:"observed,omitempty"`
	// Message says what failed, or why the expectation could not be
	// evaluated.
	Message string `json:"message,omitempty"`
}

// Sample is one failing row: its key and the values the rule read.
type Sample struct {
	Key     map[string]any `json:"key"`
	Values  map[string]any `json:"values,omitempty"`
	Message string         `json:"message"`
}

// QuarantineRule counts the events the processor quarantined for a rule.
type QuarantineRule struct {
	Rule   string    `json:"rule"`
	Events int64     `json:"events"`
	Last   time.Time `json:"last_at"`
}

// Statistics sum up a report.
type Statistics struct {
	Expectations      int     `json:"evaluated_expectations"`
	Successful        int     `json:"successful_expectations"`
	Unsuccessful      int     `json:"unsuccessful_expectations"`
	FailedErrors      int     `json:"failed_errors"`
	FailedWarnings    int     `json:"failed_warnings"`
	SuccessPercent    float64 `json:"success_percent"`
	RowsEvaluated     int64   `json:"rows_evaluated"`
	QuarantinedEvents int64   `json:"quarantined_events"`
}

// Failed returns the failed results of severity error.
func (r *Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if !res.Success && res.Severity == Error {
			out = append(out, res)
		}
	}
	return out
}

// Validate evaluates every expectation of s on the tables of db: row rules
// on every row of their table, table rules once; and counts the events the
// processor quarantined. The error is for the database or the suite's
// cross-table references (a missing table or column); failing
// expectations are in the report.
func (s *Suite) Validate(ctx context.Context, db *sql.DB, opts Options) (*Report, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Microsecond)
	switch {
	case opts.Samples == 0:
		opts.Samples = 10
	case opts.Samples < 0:
		opts.Samples = 0
	}
	if err := s.CheckRefs(ctx, db); err != nil {
		return nil, err
	}
	rep := &Report{Success: true, EvaluatedAt: now, Suite: s.Source, Results: []Result{}, Quarantine: []QuarantineRule{}}
	var scopes []string
	for t, f := range opts.Filters {
		if f.Describe != "" {
			scopes = append(scopes, t+": "+f.Describe)
		}
	}
	sort.Strings(scopes)
	rep.Scope = strings.Join(scopes, "; ")
	l := NewLookup(ctx, db)
	// Row rules: one pass over each table.
	results := map[*Expectation]*Result{}
	var tables []string
	for _, e := range s.Expectations {
		results[e] = &Result{Name: e.Name, Description: e.Description, Table: e.Table, Kind: e.Kind, Expression: e.Expr,
			Success: true, Severity: e.Severity, Samples: []Sample{}}
		if e.Kind == KindRow && !slices.Contains(tables, e.Table) {
			tables = append(tables, e.Table)
		}
	}
	for _, t := range tables {
		if err := s.validateRows(ctx, db, t, opts.Filters[t], now, l, opts.Samples, results); err != nil {
			return nil, err
		}
	}
	for _, e := range s.Expectations {
		if e.Kind == KindTable {
			if err := e.validateTable(ctx, db, now, l, results[e]); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range s.Expectations {
		r := results[e]
		if r.Evaluated > 0 {
			r.FailedPercent = 100 * float64(r.Failed) / float64(r.Evaluated)
		}
		rep.Results = append(rep.Results, *r)
		st := &rep.Statistics
		st.Expectations++
		st.RowsEvaluated += r.Evaluated
		if r.Success {
			st.Successful++
			continue
		}
		st.Unsuccessful++
		if r.Severity == Error {
			st.FailedErrors++
			rep.Success = false
		} else {
			st.FailedWarnings++
		}
	}
	if st := &rep.Statistics; st.Expectations > 0 {
		st.SuccessPercent = 100 * float64(st.Successful) / float64(st.Expectations)
	}
	q, err := QuarantineCounts(ctx, db)
	if err != nil {
		return nil, err
	}
	rep.Quarantine = q
	for _, c := range q {
		rep.Statistics.QuarantinedEvents += c.Events
	}
	return rep, nil
}

// CheckRefs checks that the tables and columns the cross-table functions
// of s read exist in db. The error is a *SuiteError naming the expectation.
func (s *Suite) CheckRefs(ctx context.Context, q queryer) error {
	checked := map[Ref]error{}
	for _, e := range s.Expectations {
		for _, r := range e.refs {
			err, done := checked[r]
			if !done {
				err = checkRef(ctx, q, r)
				checked[r] = err
			}
			if err != nil {
				return &SuiteError{File: s.Source, Line: e.Line, Expectation: e.Name, Err: err}
			}
		}
	}
	return nil
}

func checkRef(ctx context.Context, q queryer, r Ref) error {
	cols, err := tableColumns(ctx, q, r.Table)
	if err != nil {
		return fmt.Errorf("the rule reads table %s, which the store cannot read: %w", r.Table, err)
	}
	if !slices.ContainsFunc(cols, func(c column) bool { return c.name == r.Column }) {
		return fmt.Errorf("the rule reads %s.%s, but %s has no column %s", r.Table, r.Column, r.Table, r.Column)
	}
	return nil
}

// keyColumns returns the columns identifying a row of a table in samples:
// id if the table has one, else employee_id, else the first column.
func keyColumns(cols []column) []string {
	for _, k := range []string{"id", "event_id", "employee_id"} {
		if slices.ContainsFunc(cols, func(c column) bool { return c.name == k }) {
			if k == "employee_id" && slices.ContainsFunc(cols, func(c column) bool { return c.name == "sport" }) {
				return []string{"employee_id", "sport"} // hr_employee_sports
			}
			return []string{k}
		}
	}
	return []string{cols[0].name}
}

// validateRows evaluates the row rules of table on each of its rows.
func (s *Suite) validateRows(ctx context.Context, db *sql.DB, table string, f Filter, now time.Time, l *Lookup,
	samples int, results map[*Expectation]*Result) error {
	rules := s.RowRules(table)
	cols, err := tableColumns(ctx, db, table)
	if err != nil {
		for _, e := range rules {
			r := results[e]
			r.Success, r.Message = false, fmt.Sprintf("cannot read table %s: %v", table, err)
		}
		return nil
	}
	keys := keyColumns(cols)
	q := `SELECT * FROM ` + quote(table)
	if f.Where != "" {
		q += ` WHERE ` + f.Where
	}
	order := make([]string, len(keys))
	for i, k := range keys {
		order[i] = quote(k)
	}
	q += ` ORDER BY ` + strings.Join(order, ", ")
	rows, err := db.QueryContext(ctx, q, f.Args...)
	if err != nil {
		return fmt.Errorf("quality: read %s: %w", table, err)
	}
	defer func() { _ = rows.Close() }()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("quality: read %s: %w", table, err)
		}
		row := Row{}
		for i, c := range cols {
			if vals[i] == nil {
				continue
			}
			v, err := c.conv(vals[i])
			if err != nil {
				return fmt.Errorf("quality: read %s.%s: %w", table, c.name, err)
			}
			row[c.name] = v
		}
		act, err := rowVars(row, now, s.policy(), l)
		if err != nil {
			return err
		}
		for _, e := range rules {
			r := results[e]
			r.Evaluated++
			ok, msg, err := e.eval(act, l)
			if err != nil {
				return err
			}
			if ok {
				continue
			}
			r.Success = false
			r.Failed++
			if len(r.Samples) < samples {
				key := map[string]any{}
				for _, k := range keys {
					key[k] = shownValue(row[k])
				}
				r.Samples = append(r.Samples, Sample{Key: key, Values: e.shown(row), Message: msg})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("quality: read %s: %w", table, err)
	}
	for _, e := range rules {
		if r := results[e]; r.Failed > 0 {
			r.Message = fmt.Sprintf("%d of %d rows of %s fail", r.Failed, r.Evaluated, table)
		}
	}
	return nil
}

// validateTable computes the aggregates e reads and evaluates it.
func (e *Expectation) validateTable(ctx context.Context, db *sql.DB, now time.Time, l *Lookup, r *Result) error {
	r.Evaluated = 1
	fail := func(format string, args ...any) error {
		r.Success, r.Failed, r.Message = false, 1, fmt.Sprintf(format, args...)
		return nil
	}
	cols, err := tableColumns(ctx, db, e.Table)
	if err != nil {
		return fail("cannot read table %s: %v", e.Table, err)
	}
	byName := map[string]column{}
	for _, c := range cols {
		byName[c.name] = c
	}
	// One query: COUNT(*) and the aggregates, in a fixed order.
	type agg struct{ kind, col string }
	var aggs []agg
	exprs := []string{"COUNT(*)"}
	for _, kind := range aggregateKinds {
		for _, c := range e.aggs[kind] {
			if _, ok := byName[c]; !ok {
				return fail("table.%s.%s: table %s has no column %s", kind, c, e.Table, c)
			}
			aggs = append(aggs, agg{kind, c})
			switch kind {
			case "distinct":
				exprs = append(exprs, "COUNT(DISTINCT "+quote(c)+")")
			case "nulls":
				exprs = append(exprs, "COUNT(*) - COUNT("+quote(c)+")")
			case "min", "max":
				exprs = append(exprs, strings.ToUpper(kind)+"("+quote(c)+")")
			}
		}
	}
	vals := make([]any, len(exprs))
	ptrs := make([]any, len(exprs))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := db.QueryRowContext(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM `+quote(e.Table)).Scan(ptrs...); err != nil {
		return fmt.Errorf("quality: aggregates of %s: %w", e.Table, err)
	}
	rowsN, _ := toInt(vals[0])
	table := map[string]any{"rows": rowsN}
	r.Observed = map[string]any{"rows": rowsN}
	for i, a := range aggs {
		v := vals[i+1]
		var err error
		if a.kind == "min" || a.kind == "max" {
			if v != nil {
				v, err = byName[a.col].conv(v)
			}
		} else {
			v, err = toInt(v)
		}
		if err != nil {
			return fmt.Errorf("quality: %s(%s.%s): %w", a.kind, e.Table, a.col, err)
		}
		m, _ := table[a.kind].(map[string]any)
		if m == nil {
			m = map[string]any{}
			table[a.kind] = m
		}
		if v != nil {
			m[a.col] = v
		}
		if a.kind == "distinct" || a.kind == "nulls" || Shown(e.Table, a.col) {
			r.Observed[a.kind+"."+a.col] = shownValue(v)
		}
	}
	for _, kind := range aggregateKinds {
		if table[kind] == nil {
			table[kind] = map[string]any{}
		}
	}
	act, err := vars(map[string]any{"table": table, "now": now}, l)
	if err != nil {
		return err
	}
	ok, msg, err := e.eval(act, l)
	if err != nil {
		if errors.Is(err, errLookup) {
			return fmt.Errorf("quality: %s: %w", e.Name, err)
		}
		return err
	}
	if !ok {
		return fail("%s", msg)
	}
	return nil
}

// QuarantineCounts counts the quarantined events per rule; none when the
// processor never ran (no quarantine table).
func QuarantineCounts(ctx context.Context, db *sql.DB) ([]QuarantineRule, error) {
	if _, err := tableColumns(ctx, db, TableQuarantine); err != nil {
		return []QuarantineRule{}, nil //nolint:nilerr // no table: nothing quarantined yet
	}
	rows, err := db.QueryContext(ctx, `SELECT rule, COUNT(*), MAX(quarantined_at) FROM `+TableQuarantine+` GROUP BY rule ORDER BY rule`)
	if err != nil {
		return nil, fmt.Errorf("quality: count quarantined events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []QuarantineRule{}
	for rows.Next() {
		var q QuarantineRule
		var last any
		if err := rows.Scan(&q.Rule, &q.Events, &last); err != nil {
			return nil, fmt.Errorf("quality: count quarantined events: %w", err)
		}
		if t, err := toTime(last); err == nil {
			q.Last, _ = t.(time.Time)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("quality: count quarantined events: %w", err)
	}
	return out, nil
}
