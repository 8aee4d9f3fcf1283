package quality

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// Querier runs the lookups of the cross-table functions: a *sql.DB or a
// *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Lookup answers employee_exists and exists_in from the store, remembering
// the answers. It is not safe for concurrent use. A database error during
// an evaluation is kept in Err: it is no verdict on the data, so callers
// retry rather than fail the row.
type Lookup struct {
	ctx   context.Context
	q     Querier
	memo  map[string]bool
	lists map[string][]int64
	// others says, per primed pair, whether the employee has activities
	// from another source.
	others map[EmployeeSource]bool
	err    error
	// quarantine says whether the store has TableQuarantine; nil until
	// asked.
	quarantine *bool
}

// NewLookup returns a Lookup querying q.
func NewLookup(ctx context.Context, q Querier) *Lookup {
	return &Lookup{ctx: ctx, q: q, memo: map[string]bool{}}
}

// Err returns the first database error the lookups met.
func (l *Lookup) Err() error { return l.err }

// memoKey is the key of Exists's answer for a value.
func memoKey(table, column string, value any) string {
	return fmt.Sprintf("%s\x00%s\x00%T\x00%v", table, column, value, value)
}

// Prime looks the values up in one query per few hundred, so that a batch
// of events asks the store once rather than once per employee. Errors are
// kept in Err, as Exists does.
func (l *Lookup) Prime(table, column string, values []string) {
	const chunk = 400
	for start := 0; start < len(values) && l.err == nil; start += chunk {
		part := values[start:min(start+chunk, len(values))]
		args := make([]any, len(part))
		marks := make([]string, len(part))
		for i, v := range part {
			args[i], marks[i] = v, fmt.Sprintf("$%d", i+1)
			l.memo[memoKey(table, column, v)] = false
		}
		rows, err := l.q.QueryContext(l.ctx, `SELECT `+quote(column)+` FROM `+quote(table)+
			` WHERE `+quote(column)+` IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			l.err = fmt.Errorf("quality: look up %s.%s: %w", table, column, err)
			break
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				l.err = fmt.Errorf("quality: look up %s.%s: %w", table, column, err)
				break
			}
			l.memo[memoKey(table, column, v)] = true
		}
		if err := rows.Close(); err != nil && l.err == nil {
			l.err = fmt.Errorf("quality: look up %s.%s: %w", table, column, err)
		}
	}
	if l.err != nil {
		clear(l.memo) // nothing primed is sure
	}
}

// Exists reports whether table has a row whose column equals value. table
// and column were checked as plain names when the suite compiled.
func (l *Lookup) Exists(table, column string, value any) (bool, error) {
	k := memoKey(table, column, value)
	if v, ok := l.memo[k]; ok {
		return v, nil
	}
	var one int
	err := l.q.QueryRowContext(l.ctx, `SELECT 1 FROM `+quote(table)+` WHERE `+quote(column)+` = $1 LIMIT 1`, value).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		l.memo[k] = false
		return false, nil
	case err != nil:
		if l.err == nil {
			l.err = fmt.Errorf("quality: look up %s.%s: %w", table, column, err)
		}
		return false, l.err
	}
	l.memo[k] = true
	return true, nil
}

// Overlapping returns the ids of the activities of row's employee, from
// another source, whose time overlaps row's and that were written before
// it (updated_at, then id), leaving out those rejected in review: what the
// CEL function overlapping(row) gives.
func (l *Lookup) Overlapping(row Row) ([]int64, error) {
	id, ok1 := row["id"].(int64)
	emp, ok2 := row["employee_id"].(string)
	src, ok3 := row["source"].(string)
	start, ok4 := row["start_time"].(time.Time)
	elapsed, ok5 := row["elapsed_s"].(int64)
	updated, ok6 := row["updated_at"].(time.Time)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return nil, fmt.Errorf("%s(row) needs the row's %s", fnOverlapping, strings.Join(overlapColumns, ", "))
	}
	if other, ok := l.others[EmployeeSource{emp, src}]; ok && !other {
		return nil, nil // the employee's activities all come from this source
	}
	k := fmt.Sprintf("overlap\x00%d\x00%s", id, updated.UTC().Format(time.RFC3339Nano))
	if v, ok := l.lists[k]; ok {
		return v, nil
	}
	end := start.Add(time.Duration(elapsed) * time.Second)
	if l.quarantine == nil {
		// validate may run on a store the stage never ran on.
		_, err := tableColumns(l.ctx, l.q, TableQuarantine)
		has := err == nil
		l.quarantine = &has
	}
	rejected := ""
	if *l.quarantine {
		rejected = ` AND id NOT IN (SELECT activity_id FROM ` + TableQuarantine + ` WHERE status = 'rejected')`
	}
	// The longest activity the rules allow is a day: an overlapping one
	// starts at most a day before this one ends.
	rows, err := l.q.QueryContext(l.ctx, `SELECT id, start_time, elapsed_s, updated_at FROM sport_activities
		WHERE employee_id = $1 AND id <> $2 AND source <> $3 AND start_time > $4 AND start_time < $5`+rejected+`
		ORDER BY id`, emp, id, src, start.UTC().Add(-25*time.Hour), end.UTC().Add(time.Second))
	if err != nil {
		l.fail(fmt.Errorf("quality: look up overlapping activities: %w", err))
		return nil, l.err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var oid, oelapsed int64
		var ostart, oupdated time.Time
		if err := rows.Scan(&oid, &ostart, &oelapsed, &oupdated); err != nil {
			l.fail(fmt.Errorf("quality: look up overlapping activities: %w", err))
			return nil, l.err
		}
		oend := ostart.Add(time.Duration(oelapsed) * time.Second)
		earlier := oupdated.Before(updated) || oupdated.Equal(updated) && oid < id
		if ostart.Before(end) && oend.After(start) && earlier {
			out = append(out, oid)
		}
	}
	if err := rows.Err(); err != nil {
		l.fail(fmt.Errorf("quality: look up overlapping activities: %w", err))
		return nil, l.err
	}
	if l.lists == nil {
		l.lists = map[string][]int64{}
	}
	l.lists[k] = out
	return out, nil
}

// PrimeSources asks, in one query per few hundred (employee, source)
// pairs, whether the employee has an activity from another source, so that
// Overlapping asks nothing more for an activity whose employee writes from
// one source only (the common case). Each pair is two probes of the index
// on (employee_id, source), whatever the number of the employee's
// activities.
func (l *Lookup) PrimeSources(pairs []EmployeeSource) {
	const chunk = 400
	if l.others == nil {
		l.others = map[EmployeeSource]bool{}
	}
	for start := 0; start < len(pairs) && l.err == nil; start += chunk {
		part := pairs[start:min(start+chunk, len(pairs))]
		args := make([]any, 0, 2*len(part))
		marks := make([]string, len(part))
		for i, p := range part {
			args = append(args, p.Employee, p.Source)
			marks[i] = fmt.Sprintf("($%d, $%d)", 2*i+1, 2*i+2)
		}
		// VALUES names its columns column1, column2 in SQLite and
		// PostgreSQL alike.
		rows, err := l.q.QueryContext(l.ctx, `SELECT v.column1, v.column2 FROM (VALUES `+strings.Join(marks, ", ")+`) AS v
			WHERE EXISTS (SELECT 1 FROM sport_activities s WHERE s.employee_id = v.column1 AND s.source < v.column2)
			OR EXISTS (SELECT 1 FROM sport_activities s WHERE s.employee_id = v.column1 AND s.source > v.column2)`, args...)
		if err != nil {
			l.fail(fmt.Errorf("quality: look up the sources of activities: %w", err))
			break
		}
		for _, p := range part {
			l.others[p] = false
		}
		for rows.Next() {
			var p EmployeeSource
			if err := rows.Scan(&p.Employee, &p.Source); err != nil {
				l.fail(fmt.Errorf("quality: look up the sources of activities: %w", err))
				break
			}
			l.others[p] = true
		}
		if err := rows.Close(); err != nil {
			l.fail(fmt.Errorf("quality: look up the sources of activities: %w", err))
		}
	}
	if l.err != nil {
		clear(l.others)
	}
}

// EmployeeSource is an employee and a writer of activities (Activity.Source).
type EmployeeSource struct{ Employee, Source string }

// fail keeps the first database error.
func (l *Lookup) fail(err error) {
	if l.err == nil {
		l.err = err
	}
}

func (l *Lookup) functions() map[string]cel.LateBoundFunction {
	exists := func(table, column string, v ref.Val) ref.Val {
		if l == nil {
			return types.NewErr("%s needs the store", fnExistsIn)
		}
		ok, err := l.Exists(table, column, v.Value())
		if err != nil {
			return types.WrapErr(err)
		}
		return types.Bool(ok)
	}
	return map[string]cel.LateBoundFunction{
		fnOverlapping: func(_ string, args ...ref.Val) ref.Val {
			if l == nil {
				return types.NewErr("%s needs the store", fnOverlapping)
			}
			row, err := args[0].ConvertToNative(reflect.TypeFor[map[string]any]())
			if err != nil {
				return types.WrapErr(err)
			}
			ids, err := l.Overlapping(row.(map[string]any))
			if err != nil {
				return types.WrapErr(err)
			}
			return types.DefaultTypeAdapter.NativeToValue(ids)
		},
		fnEmployeeExists: func(_ string, args ...ref.Val) ref.Val {
			return exists(employeesTable, employeesColumn, args[0])
		},
		fnExistsIn: func(_ string, args ...ref.Val) ref.Val {
			t, _ := args[0].Value().(string)
			c, _ := args[1].Value().(string)
			return exists(t, c, args[2])
		},
	}
}

// quote quotes an SQL identifier (already checked against identRE).
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Row is one row as a rule sees it: column name to value (int64, float64,
// string, bool, time.Time, or for unknown JSON columns what encoding/json
// gives); a NULL column is absent.
type Row map[string]any

// Failure is an expectation a row failed.
type Failure struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Message is "false" when the rule evaluated to false, else the
	// evaluation error (e.g. "no such key: comment").
	Message string `json:"message"`
	// Values are the values of the columns the rule reads (never the
	// personal columns of the hr_ tables).
	Values map[string]any `json:"values,omitempty"`
}

// errLookup marks an evaluation that a database error interrupted.
var errLookup = errors.New("lookup failed")

// rowVars is the activation of the row rules for row: built once per row
// and shared by its rules.
func rowVars(row Row, now time.Time, policy map[string]any, l *Lookup) (interpreter.Activation, error) {
	return vars(map[string]any{"row": map[string]any(row), "now": now, "policy": policy}, l)
}

// vars is an activation of the variables in m and the cross-table
// functions of l.
func vars(m map[string]any, l *Lookup) (interpreter.Activation, error) {
	act, err := cel.FunctionVars(m, l.functions())
	if err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}
	return act, nil
}

// eval runs e's program on act. ok is false when the rule fails; msg says
// how. err is set only when a database lookup failed (no verdict).
func (e *Expectation) eval(act interpreter.Activation, l *Lookup) (ok bool, msg string, err error) {
	out, _, evalErr := e.prg.Eval(act)
	if l != nil && l.err != nil {
		return false, "", fmt.Errorf("%w: %w", errLookup, l.err)
	}
	if evalErr != nil {
		return false, evalErr.Error(), nil
	}
	b, isBool := out.Value().(bool)
	switch {
	case !isBool:
		return false, fmt.Sprintf("the rule gave %v (%s), not true or false", out.Value(), out.Type().TypeName()), nil
	case !b:
		return false, "false", nil
	}
	return true, "", nil
}

// CheckRow evaluates the row rules of table on row at now, with l for the
// cross-table functions, and returns the failures, errors before warnings
// in suite order. The error is a database error of a lookup only: the row
// has no verdict and should be checked again.
func (s *Suite) CheckRow(table string, row Row, now time.Time, l *Lookup) ([]Failure, error) {
	var errs, warns []Failure
	rules := s.RowRules(table)
	if len(rules) == 0 {
		return nil, nil
	}
	act, err := rowVars(row, now, s.policy(), l)
	if err != nil {
		return nil, err
	}
	for _, e := range rules {
		ok, msg, err := e.eval(act, l)
		if err != nil {
			return nil, err
		}
		if ok {
			continue
		}
		f := Failure{Rule: e.Name, Severity: e.Severity, Message: msg, Values: e.shown(row)}
		if e.overlaps && l != nil {
			if ids, err := l.Overlapping(row); err == nil && len(ids) > 0 {
				f.Values["overlapping_ids"] = ids
			}
		}
		if e.Severity == Error {
			errs = append(errs, f)
		} else {
			warns = append(warns, f)
		}
	}
	return append(errs, warns...), nil
}

// hrShown are the columns of the hr_ tables that reports may show: the
// others are personal data (names, birth date, salary, address...).
var hrShown = map[string]bool{"employee_id": true, "business_unit": true, "sport": true, "imported_at": true, "updated_at": true}

// shownValue is v as reports and the quarantine write it: times in RFC
// 3339, and the floats JSON has no number for as text, in the JSON
// converter's words ("NaN", "Infinity", "-Infinity"), so that the failure
// of a NaN distance is written rather than failing to encode.
func shownValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case float64:
		switch {
		case math.IsNaN(x):
			return "NaN"
		case math.IsInf(x, 1):
			return "Infinity"
		case math.IsInf(x, -1):
			return "-Infinity"
		}
	}
	return v
}

// Shown reports whether a report may show values of column of table.
func Shown(table, column string) bool {
	return !strings.HasPrefix(table, "hr_") || hrShown[column]
}

// shown returns the values of the columns e reads that may be shown.
func (e *Expectation) shown(row Row) map[string]any {
	var out map[string]any
	for _, c := range e.columns {
		v, ok := row[c]
		if !Shown(e.Table, c) {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		if !ok {
			out[c] = nil // NULL
			continue
		}
		out[c] = shownValue(v)
	}
	return out
}
