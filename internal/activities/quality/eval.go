package quality

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
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
	ctx  context.Context
	q    Querier
	memo map[string]bool
	err  error
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

// evalRow evaluates a row rule on row. ok is false when the row fails; msg
// says how. err is set only when a database lookup failed (no verdict).
func (e *Expectation) evalRow(row Row, now time.Time, l *Lookup) (ok bool, msg string, err error) {
	return e.eval(map[string]any{"row": map[string]any(row), "now": now}, l)
}

// eval runs e's program on vars.
func (e *Expectation) eval(vars map[string]any, l *Lookup) (ok bool, msg string, err error) {
	act, err := cel.FunctionVars(vars, l.functions())
	if err != nil {
		return false, "", fmt.Errorf("quality: %s: %w", e.Name, err)
	}
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
	for _, e := range s.RowRules(table) {
		ok, msg, err := e.evalRow(row, now, l)
		if err != nil {
			return nil, err
		}
		if ok {
			continue
		}
		f := Failure{Rule: e.Name, Severity: e.Severity, Message: msg, Values: e.shown(row)}
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
