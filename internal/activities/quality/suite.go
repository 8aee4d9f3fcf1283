// Package quality checks the activity stream against a declarative
// expectation suite: a YAML file of named rules written in CEL
// (https://cel.dev), evaluated on each change event of sport_activities by
// the "activities-quality" processor and on the store's tables by
// `podium activities validate`.
//
// # The suite
//
// A suite is a list of expectations. Each names the table it checks and
// holds exactly one CEL expression that must evaluate to true:
//
//	expectations:
//	  - name: distance_in_range                # unique, [a-z0-9_]
//	    description: A distance is between 0 and 300 km
//	    table: sport_activities
//	    row: "row.distance_m >= 0.0 && row.distance_m <= 300000.0"
//	    severity: error                        # error (default) | warning
//	  - name: ids_unique
//	    table: sport_activities
//	    table_rule: "table.rows == table.distinct.id"
//
// A row rule ("row:") sees one row of its table as the map row and the
// evaluation time as the timestamp now. It is evaluated on every row of the
// table by validate, and, for sport_activities, on the after image of each
// insert, update and snapshot read on the bus. Values are typed: integer
// columns are CEL ints, real columns doubles, text strings, booleans bools,
// TIMESTAMP, TIMESTAMPTZ and DATE columns timestamps (so
// row.start_time < now works, and now - row.updated_at is a duration).
//
// NULL is explicit: a column that is NULL (or, in a change event, null or
// missing) is absent from row. Test it with has(row.comment); a rule that
// reads an absent column without has() fails for that row with "no such
// key". An empty string is not NULL: test it with row.employee_id != "".
//
// CEL's math extension is there: math.isFinite(row.distance_m) is false
// for NaN and infinities, which a change event may carry (the JSON
// converter writes them "NaN", "Infinity", "-Infinity").
//
// policy is a map of the rewards policy's settings the rules depend on
// (policy.indoor: count, flag or hold for activities on a training
// machine), set by the caller (Suite.Policy).
//
// overlapping(row) is the cross-row check: the ids of the employee's other
// activities, from another source (Strava and a manual entry, say), whose
// time overlaps the row's and that were written before it (by updated_at,
// then id) and are not rejected in review — so of two duplicates only the
// later is held. It reads sport_activities.
//
// Two functions read other tables (cross-table rules):
// employee_exists(id) is true when hr_employees has that employee_id, and
// exists_in('table', 'column', value) when the table has a row whose column
// equals value. Their table and column must be string literals.
//
// A table rule ("table_rule:") is evaluated once per table by validate (never
// on events). It sees now and the map table of aggregates computed by SQL:
// table.rows (the row count) and, for each column the rule names,
// table.distinct.<column> (distinct non-NULL values), table.nulls.<column>,
// table.min.<column> and table.max.<column>. A min or max of a table
// without non-NULL values is absent: test it with has(table.max.updated_at).
//
// A failing error expectation quarantines the event — holds it for review
// (podium activities review) — or fails validate; a failing warning flags
// it: counted, recorded in activities_flags and shown, and the event passes.
//
// # Personal data
//
// Reports show, for each failing row, its key and the values of the columns
// the rule reads — except the personal columns of the HR register (names,
// birth date, salary, address, coordinates...): of an hr_ table only
// employee_id, business_unit, sport and the import times are ever shown,
// and only counts (never min or max) of its other columns.
package quality

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"
	"gopkg.in/yaml.v3"
)

// Severity says what a failing expectation does.
type Severity string

// The severities.
const (
	// Error quarantines a failing event and fails validate.
	Error Severity = "error"
	// Warning is counted and reported only.
	Warning Severity = "warning"
)

// Kind is what an expectation evaluates: each row, or the table once.
type Kind string

// The kinds of expectations.
const (
	KindRow   Kind = "row"
	KindTable Kind = "table"
)

// Expectation is one compiled rule of a suite.
type Expectation struct {
	Name        string
	Description string
	Table       string
	Kind        Kind
	// Expr is the CEL expression, as written.
	Expr     string
	Severity Severity
	// Line is the expectation's line in the suite file.
	Line int

	prg cel.Program
	// columns are the columns of row a row rule reads (row.x, row['x']),
	// sorted.
	columns []string
	// aggs are the aggregates a table rule reads, per kind (distinct,
	// nulls, min, max): the columns.
	aggs map[string][]string
	// refs are the (table, column) pairs exists_in and employee_exists
	// read.
	refs []Ref
	// overlaps is set when the rule calls overlapping(row).
	overlaps bool
}

// Columns returns the columns a row rule reads, sorted.
func (e *Expectation) Columns() []string { return slices.Clone(e.columns) }

// Ref is a column of another table a rule reads through exists_in or
// employee_exists.
type Ref struct{ Table, Column string }

// Suite is a set of expectations.
type Suite struct {
	// Source names where the suite came from: a file path, or "default".
	Source       string
	Expectations []*Expectation
	// Policy is what the rules see as policy (the rewards policy's
	// settings they depend on); nil is DefaultPolicy.
	Policy Policy
}

// Policy is the map policy of the rules: setting name to value.
type Policy map[string]any

// The keys of Policy.
const (
	// PolicyIndoor says what the rules do with activities on a training
	// machine (trainer, virtual): "count", "flag" or "hold" (for review).
	PolicyIndoor = "indoor"
)

// DefaultPolicy is the policy of a suite that was given none.
var DefaultPolicy = Policy{PolicyIndoor: "flag"}

func (s *Suite) policy() map[string]any {
	if s.Policy == nil {
		return DefaultPolicy
	}
	return s.Policy
}

// RowRules returns the row rules of table, in suite order.
func (s *Suite) RowRules(table string) []*Expectation {
	var out []*Expectation
	for _, e := range s.Expectations {
		if e.Kind == KindRow && e.Table == table {
			out = append(out, e)
		}
	}
	return out
}

// overlaps reports whether a rule of s calls overlapping(row).
func (s *Suite) overlaps() bool {
	return slices.ContainsFunc(s.Expectations, func(e *Expectation) bool { return e.overlaps })
}

// Refs returns the (table, column) pairs the rules of s read in other
// tables, without duplicates.
func (s *Suite) Refs() []Ref {
	var out []Ref
	for _, e := range s.Expectations {
		for _, r := range e.refs {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

//go:embed expectations.yaml
var defaultSuite []byte

// DefaultSource is the Source of the embedded default suite.
const DefaultSource = "default"

// Default returns the embedded default suite (expectations.yaml in this
// package).
func Default() *Suite {
	s, err := Parse(DefaultSource, defaultSuite)
	if err != nil {
		panic("quality: the embedded default suite: " + err.Error())
	}
	return s
}

// DefaultYAML returns the text of the default suite, a starting point for
// one's own.
func DefaultYAML() []byte { return slices.Clone(defaultSuite) }

// Load reads the suite at path, or returns the default suite when path is
// empty.
func Load(path string) (*Suite, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &SuiteError{File: path, Err: err}
	}
	return Parse(path, data)
}

// SuiteError is a problem with a suite file: unreadable, not YAML, or an
// expectation that does not compile. The message names the file, the line
// and the expectation.
type SuiteError struct {
	File        string
	Line        int
	Expectation string
	Err         error
}

func (e *SuiteError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Expectation != "" {
		fmt.Fprintf(&b, ": expectation %q", e.Expectation)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *SuiteError) Unwrap() error { return e.Err }

// The YAML form of a suite.
type suiteFile struct {
	Expectations []yaml.Node `yaml:"expectations"`
}

type expectationFile struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Table       string   `yaml:"table"`
	Row         string   `yaml:"row"`
	TableRule   string   `yaml:"table_rule"`
	Severity    Severity `yaml:"severity"`
}

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Parse compiles the suite in data; name is the file name used in errors
// and as the suite's Source.
func Parse(name string, data []byte) (*Suite, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &SuiteError{File: name, Err: fmt.Errorf("not a YAML suite: %w", err)}
	}
	var f suiteFile
	if err := doc.Decode(&f); err != nil {
		return nil, &SuiteError{File: name, Err: fmt.Errorf("want a mapping with a list of expectations: %w", err)}
	}
	if len(f.Expectations) == 0 {
		return nil, &SuiteError{File: name, Err: errors.New("no expectations: the file needs an expectations: list")}
	}
	s := &Suite{Source: name}
	seen := map[string]int{}
	for _, n := range f.Expectations {
		e, err := compileNode(&n)
		if err != nil {
			var se *SuiteError
			if errors.As(err, &se) {
				se.File = name
				return nil, se
			}
			return nil, &SuiteError{File: name, Line: n.Line, Err: err}
		}
		if prev, dup := seen[e.Name]; dup {
			return nil, &SuiteError{File: name, Line: n.Line, Expectation: e.Name,
				Err: fmt.Errorf("the name is used twice (first on line %d): names must be unique", prev)}
		}
		seen[e.Name] = n.Line
		s.Expectations = append(s.Expectations, e)
	}
	return s, nil
}

// compileNode decodes and compiles one expectation.
func compileNode(n *yaml.Node) (*Expectation, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errors.New("an expectation is a mapping with name, table and row or table_rule")
	}
	known := map[string]bool{"name": true, "description": true, "table": true, "row": true, "table_rule": true, "severity": true}
	var exprNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if !known[k] {
			return nil, &SuiteError{Line: n.Content[i].Line, Expectation: nameOf(n),
				Err: fmt.Errorf("unknown field %q: use name, description, table, row, table_rule, severity", k)}
		}
		if k == "row" || k == "table_rule" {
			exprNode = n.Content[i+1]
		}
	}
	var f expectationFile
	if err := n.Decode(&f); err != nil {
		return nil, &SuiteError{Line: n.Line, Expectation: nameOf(n), Err: err}
	}
	fail := func(format string, args ...any) error {
		return &SuiteError{Line: n.Line, Expectation: f.Name, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case f.Name == "":
		return nil, fail("the expectation has no name")
	case !regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`).MatchString(f.Name):
		return nil, fail("name: use letters, digits, _, . and - only")
	case f.Table == "":
		return nil, fail("table is missing: name the table whose rows it checks")
	case !identRE.MatchString(f.Table):
		return nil, fail("table %q: use a lower-case SQL table name", f.Table)
	case f.Row != "" && f.TableRule != "":
		return nil, fail("give row or table_rule, not both")
	case f.Row == "" && f.TableRule == "":
		return nil, fail("give a CEL expression: row (checked on each row) or table_rule (checked once on the table)")
	}
	switch f.Severity {
	case "":
		f.Severity = Error
	case Error, Warning:
	default:
		return nil, fail("severity %q: use error or warning", f.Severity)
	}
	e := &Expectation{Name: f.Name, Description: f.Description, Table: f.Table, Severity: f.Severity, Line: n.Line,
		Kind: KindRow, Expr: f.Row}
	if f.TableRule != "" {
		e.Kind, e.Expr = KindTable, f.TableRule
	}
	if err := e.compile(); err != nil {
		line := n.Line
		var ce *compileError
		if errors.As(err, &ce) && exprNode != nil {
			line = exprNode.Line + ce.line - 1
			if exprNode.Style == yaml.LiteralStyle || exprNode.Style == yaml.FoldedStyle {
				line++ // the text starts on the line after | or >
			}
		}
		return nil, &SuiteError{Line: line, Expectation: f.Name, Err: err}
	}
	return e, nil
}

// nameOf returns the name field of an expectation node, for errors.
func nameOf(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// Function names of the cross-table and cross-row checks.
const (
	fnEmployeeExists = "employee_exists"
	fnExistsIn       = "exists_in"
	fnOverlapping    = "overlapping"
)

// overlapColumns are the columns overlapping(row) reads.
var overlapColumns = []string{"employee_id", "id", "source", "start_time", "elapsed_s", "updated_at"}

// The table employee_exists reads.
const (
	employeesTable  = "hr_employees"
	employeesColumn = "employee_id"
)

// env is the CEL environment of every rule: row, table and now, the
// late-bound cross-table functions (bound at evaluation to the store), and
// CEL's math extension (math.isFinite, math.isNaN, math.greatest...).
var env = func() *cel.Env {
	e, err := cel.NewEnv(
		ext.Math(),
		cel.Variable("row", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("table", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("now", cel.TimestampType),
		cel.Variable("policy", cel.MapType(cel.StringType, cel.DynType)),
		cel.Function(fnOverlapping,
			cel.Overload("overlapping_map", []*cel.Type{cel.MapType(cel.StringType, cel.DynType)}, cel.ListType(cel.IntType),
				cel.LateFunctionBinding())),
		cel.Function(fnEmployeeExists,
			cel.Overload("employee_exists_string", []*cel.Type{cel.StringType}, cel.BoolType, cel.LateFunctionBinding())),
		cel.Function(fnExistsIn,
			cel.Overload("exists_in_string_string_dyn", []*cel.Type{cel.StringType, cel.StringType, cel.DynType}, cel.BoolType,
				cel.LateFunctionBinding())),
	)
	if err != nil {
		panic(err)
	}
	return e
}()

// compileError is a CEL error at a line and column of the expression.
type compileError struct {
	line, column int
	msg          string
}

func (e *compileError) Error() string { return e.msg }

// compile checks e's expression and plans its program.
func (e *Expectation) compile() error {
	checked, iss := env.Compile(e.Expr)
	if iss.Err() != nil {
		ce := &compileError{line: 1, msg: fmt.Sprintf("%s: %s", e.fieldName(), strings.TrimSpace(iss.String()))}
		if errs := iss.Errors(); len(errs) > 0 {
			loc := errs[0].Location
			ce.line, ce.column = max(loc.Line(), 1), loc.Column()+1
			ce.msg = fmt.Sprintf("%s: CEL error at line %d, column %d of the expression: %s\n%s", e.fieldName(), ce.line, ce.column,
				errs[0].Message, strings.TrimSpace(iss.String()))
		}
		return ce
	}
	if !checked.OutputType().IsExactType(types.BoolType) && !checked.OutputType().IsExactType(types.DynType) {
		return fmt.Errorf("%s: the expression is a %s; it must be true or false", e.fieldName(), checked.OutputType())
	}
	if err := e.walk(checked.NativeRep().Expr()); err != nil {
		return fmt.Errorf("%s: %w", e.fieldName(), err)
	}
	prg, err := env.Program(checked, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return fmt.Errorf("%s: %w", e.fieldName(), err)
	}
	e.prg = prg
	return nil
}

func (e *Expectation) fieldName() string {
	if e.Kind == KindTable {
		return "table_rule"
	}
	return "row"
}

// aggregateKinds are the maps of table.
var aggregateKinds = []string{"distinct", "nulls", "min", "max"}

// walk collects what the expression reads: row columns, table aggregates,
// cross-table references; and rejects what cannot be computed.
func (e *Expectation) walk(root ast.Expr) error {
	var errs []error
	aggNodes := map[int64]string{} // table.<kind> nodes
	used := map[int64]bool{}       // those followed by a column
	addAgg := func(kind, col string) {
		if e.aggs == nil {
			e.aggs = map[string][]string{}
		}
		if !slices.Contains(e.aggs[kind], col) {
			e.aggs[kind] = append(e.aggs[kind], col)
		}
	}
	// field returns the operand and field name of x.f or x['f'].
	field := func(x ast.Expr) (ast.Expr, string, bool) {
		switch x.Kind() {
		case ast.SelectKind:
			return x.AsSelect().Operand(), x.AsSelect().FieldName(), true
		case ast.CallKind:
			c := x.AsCall()
			if c.FunctionName() == "_[_]" && len(c.Args()) == 2 && c.Args()[1].Kind() == ast.LiteralKind {
				if s, ok := c.Args()[1].AsLiteral().Value().(string); ok {
					return c.Args()[0], s, true
				}
			}
		}
		return nil, "", false
	}
	isIdent := func(x ast.Expr, name string) bool {
		return x != nil && x.Kind() == ast.IdentKind && x.AsIdent() == name
	}
	ast.PreOrderVisit(root, ast.NewExprVisitor(func(x ast.Expr) {
		if x.Kind() == ast.IdentKind {
			switch {
			case x.AsIdent() == "row" && e.Kind == KindTable:
				errs = append(errs, errors.New("a table rule sees table, not row: use a row rule to check each row"))
			case x.AsIdent() == "table" && e.Kind == KindRow:
				errs = append(errs, errors.New("a row rule sees row, not table: use a table_rule for counts and aggregates"))
			}
		}
		if x.Kind() == ast.CallKind {
			c := x.AsCall()
			switch c.FunctionName() {
			case fnOverlapping:
				if e.Kind == KindTable {
					errs = append(errs, errors.New("overlapping(row) is for row rules"))
					return
				}
				e.overlaps = true
				for _, col := range overlapColumns {
					if !slices.Contains(e.columns, col) {
						e.columns = append(e.columns, col)
					}
				}
				if r := (Ref{"sport_activities", "employee_id"}); !slices.Contains(e.refs, r) {
					e.refs = append(e.refs, r)
				}
			case fnEmployeeExists:
				if r := (Ref{employeesTable, employeesColumn}); !slices.Contains(e.refs, r) {
					e.refs = append(e.refs, r)
				}
			case fnExistsIn:
				var names [2]string
				for i := range 2 {
					a := c.Args()[i]
					s, ok := "", a.Kind() == ast.LiteralKind
					if ok {
						s, ok = a.AsLiteral().Value().(string)
					}
					if !ok || !identRE.MatchString(s) {
						errs = append(errs, errors.New("exists_in('table', 'column', value): the table and the column must be quoted lower-case names"))
						return
					}
					names[i] = s
				}
				if r := (Ref{names[0], names[1]}); !slices.Contains(e.refs, r) {
					e.refs = append(e.refs, r)
				}
			}
		}
		op, name, ok := field(x)
		if !ok {
			return
		}
		switch {
		case isIdent(op, "row"):
			if !slices.Contains(e.columns, name) {
				e.columns = append(e.columns, name)
			}
		case isIdent(op, "table"):
			switch {
			case name == "rows":
			case slices.Contains(aggregateKinds, name):
				aggNodes[x.ID()] = name
			default:
				errs = append(errs, fmt.Errorf("table.%s: a table rule reads table.rows, table.distinct.<column>, table.nulls.<column>, table.min.<column> and table.max.<column>", name))
			}
		default:
			// table.<kind>.<column>: the operand is a table.<kind> node.
			if pop, kind, ok := field(op); ok && isIdent(pop, "table") && slices.Contains(aggregateKinds, kind) {
				if !identRE.MatchString(name) {
					errs = append(errs, fmt.Errorf("table.%s.%s: not a column name", kind, name))
					return
				}
				used[op.ID()] = true
				addAgg(kind, name)
			}
		}
	}))
	for id, kind := range aggNodes {
		if !used[id] {
			errs = append(errs, fmt.Errorf("table.%s: name the column, as in table.%s.id", kind, kind))
		}
	}
	slices.Sort(e.columns)
	for k := range e.aggs {
		slices.Sort(e.aggs[k])
	}
	return errors.Join(errs...)
}
