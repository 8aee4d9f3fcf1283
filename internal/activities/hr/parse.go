package hr

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Input is a file to import: its name (whose extension, .xlsx or .csv,
// says how to read it) and its content.
type Input struct {
	Name string
	R    io.Reader
}

// Options tune Parse.
type Options struct {
	// Sports, when set, is a separate file (.xlsx or .csv) holding the
	// sports sheet: employee id and sport practised. Without it, the sports
	// sheet is looked for in the register's workbook.
	Sports *Input
	// Today is the date ages are checked against; zero means now.
	Today time.Time
}

// RowError is a rejected cell of a sheet.
type RowError struct {
	Sheet  string // the sheet's name, or the CSV file's name
	Row    int    // the row number as the spreadsheet shows it (header = 1)
	Column string // the column's header as written in the file
	Reason string // what is wrong; never quotes personal data
}

// Error formats e as "Salariés, row 12, column Date de naissance: reason".
func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s, row %d: %s", e.Sheet, e.Row, e.Reason)
	}
	return fmt.Sprintf("%s, row %d, column %s: %s", e.Sheet, e.Row, e.Column, e.Reason)
}

// Warning is something an import corrected or could not check, on a row
// that was kept.
type Warning struct {
	Sheet   string
	Row     int
	Column  string
	Message string
}

// String formats w like RowError.Error.
func (w Warning) String() string {
	return RowError{Sheet: w.Sheet, Row: w.Row, Column: w.Column, Reason: w.Message}.Error()
}

// Report says what an import kept and rejected.
type Report struct {
	// Sources says which sheets were read and how.
	Sources []string
	// Kept and Rejected count the rows of the employee sheet.
	Kept, Rejected int
	// SportsKept and SportsRejected count the rows of the sports sheet.
	SportsKept, SportsRejected int
	// Errors lists every rejected cell, by sheet, row and column.
	Errors []RowError
	// Warnings lists corrections made on kept rows (a misspelt sport read
	// as the known one) and doubtful values.
	Warnings []Warning
}

// Summary is a one-line account of the import.
func (r Report) Summary() string {
	s := fmt.Sprintf("%d employees kept, %d rows rejected", r.Kept, r.Rejected)
	if r.SportsKept+r.SportsRejected > 0 {
		s += fmt.Sprintf("; sports: %d rows kept, %d rejected", r.SportsKept, r.SportsRejected)
	}
	return s + fmt.Sprintf("; %d errors, %d warnings", len(r.Errors), len(r.Warnings))
}

// ErrNoRegister is returned when no sheet of the input has the register's
// headers.
var ErrNoRegister = errors.New("no employee sheet found")

// ParseFile opens and parses the register at path and, when sportsPath is
// not empty, the separate sports file there (see Parse).
func ParseFile(path, sportsPath string, opts Options) (Register, Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Register{}, Report{}, fmt.Errorf("open HR register: %w", err)
	}
	defer func() { _ = f.Close() }()
	if sportsPath != "" {
		sf, err := os.Open(sportsPath)
		if err != nil {
			return Register{}, Report{}, fmt.Errorf("open sports file: %w", err)
		}
		defer func() { _ = sf.Close() }()
		opts.Sports = &Input{Name: sportsPath, R: sf}
	}
	return Parse(Input{Name: path, R: f}, opts)
}

// Parse reads an HR register: an .xlsx workbook (date and number cells, or
// text cells) or a CSV export (';' or ',' separated, UTF-8 with or without
// BOM, or Windows-1252). The employee sheet is the first whose header row
// has the register's columns, in French or English; the sports sheet
// (employee id, sport practised) is the first other sheet with those
// columns, or the sheet of opts.Sports.
//
// Bad rows do not stop the import: each rejected cell is a RowError of the
// report, the row is left out, and the good rows are kept. Parse returns an
// error only when the input cannot be read or has no usable employee sheet
// (a required column is missing, say).
func Parse(in Input, opts Options) (Register, Report, error) {
	today := opts.Today
	if today.IsZero() {
		today = time.Now()
	}
	p := &parser{today: today, seen: map[string]int{}, kept: map[string]int{}}

	tables, err := readTables(in.Name, in.R)
	if err != nil {
		return Register{}, Report{}, err
	}
	emp, empHdr, err := findSheet(tables, header.isEmployeeSheet)
	if err != nil {
		return Register{}, Report{}, fmt.Errorf("%s: %w: expected a header row with %s, %s, %s, … (French or English)",
			in.Name, ErrNoRegister, fID.label(), fLastName.label(), fFirstName.label())
	}
	if missing := empHdr.missing(); len(missing) > 0 {
		var names []string
		for _, f := range missing {
			names = append(names, fieldInfo[f].names[0]+" ("+fieldInfo[f].names[1]+")")
		}
		return Register{}, Report{}, fmt.Errorf("%s, sheet %s: missing columns: %s", in.Name, emp.sheet, strings.Join(names, ", "))
	}
	p.report.Sources = append(p.report.Sources, fmt.Sprintf("%s: sheet %s (%s), employee rows from row %d", in.Name, emp.sheet, emp.format, empHdr.row+1))
	for f, name := range empHdr.dups {
		p.warn(emp.sheet, empHdr.row, name, fmt.Sprintf("second column for %s ignored", fieldInfo[f].names[0]))
	}
	p.employees(emp, empHdr)

	// The sports sheet: in the separate file if one is given, else in the
	// register's workbook.
	var sportTables []table
	sportsName := in.Name
	if opts.Sports != nil {
		sportsName = opts.Sports.Name
		sportTables, err = readTables(opts.Sports.Name, opts.Sports.R)
		if err != nil {
			return Register{}, Report{}, err
		}
	} else {
		for _, t := range tables {
			if t.sheet != emp.sheet {
				sportTables = append(sportTables, t)
			}
		}
	}
	sports, sportsHdr, err := findSheet(sportTables, header.isSportsSheet)
	switch {
	case err == nil:
		p.report.Sources = append(p.report.Sources, fmt.Sprintf("%s: sheet %s (%s), sports rows from row %d", sportsName, sports.sheet, sports.format, sportsHdr.row+1))
		p.sports(sports, sportsHdr)
	case opts.Sports != nil:
		return Register{}, Report{}, fmt.Errorf("%s: no sports sheet found: expected a header row with %s and %s", sportsName, fID.label(), fSport.label())
	}

	reg := Register{Employees: p.employeesKept}
	return reg, p.report, nil
}

// findSheet returns the first table, and its header, whose header row (one
// of its first ten non-empty rows) satisfies is.
func findSheet(tables []table, is func(header) bool) (table, header, error) {
	for _, t := range tables {
		seen := 0
		for i, row := range t.rows {
			if blank(row) {
				continue
			}
			if h := readHeader(t.rowNums[i], row); is(h) {
				return t, h, nil
			}
			if seen++; seen == 10 {
				break
			}
		}
	}
	return table{}, header{}, ErrNoRegister
}

func blank(row []string) bool {
	for _, c := range row {
		if cleanCell(c) != "" {
			return false
		}
	}
	return true
}

// parser accumulates the result of one Parse.
type parser struct {
	today         time.Time
	report        Report
	employeesKept []Employee
	seen          map[string]int // employee id → row of its first occurrence
	kept          map[string]int // employee id → index in employeesKept
}

func (p *parser) reject(sheet string, row int, column, reason string) {
	p.report.Errors = append(p.report.Errors, RowError{Sheet: sheet, Row: row, Column: column, Reason: reason})
}

func (p *parser) warn(sheet string, row int, column, msg string) {
	p.report.Warnings = append(p.report.Warnings, Warning{Sheet: sheet, Row: row, Column: column, Message: msg})
}

// dataRows calls fn with each non-blank row below the header.
func dataRows(t table, h header, fn func(row int, cells []string)) {
	for i, cells := range t.rows {
		if t.rowNums[i] <= h.row || blank(cells) {
			continue
		}
		fn(t.rowNums[i], cells)
	}
}

const dateHint = "not a date (write dd/mm/yyyy or yyyy-mm-dd, or use a date cell)"

// employees reads and checks the rows of the employee sheet.
func (p *parser) employees(t table, h header) {
	dataRows(t, h, func(row int, cells []string) {
		errs := len(p.report.Errors)
		bad := func(f field, reason string) { p.reject(t.sheet, row, h.names[f], reason) }
		get := func(f field) string { return h.cell(cells, f) }
		required := func(f field, what string) string {
			v := get(f)
			if v == "" {
				bad(f, "missing "+what)
			}
			return v
		}

		var e Employee
		e.ID = required(fID, "employee id")
		if e.ID != "" {
			if first, dup := p.seen[e.ID]; dup {
				bad(fID, fmt.Sprintf("duplicate employee id %s (first on row %d)", e.ID, first))
			} else {
				p.seen[e.ID] = row
			}
		}
		e.LastName = required(fLastName, "last name")
		e.FirstName = required(fFirstName, "first name")
		e.BusinessUnit = required(fBusinessUnit, "business unit")
		e.ContractType = normalizeContract(required(fContract, "contract type"))

		birthOK, hireOK := false, false
		if v := required(fBirthDate, "birth date"); v != "" {
			if e.BirthDate, birthOK = parseDate(v, t.date1904, p.today); !birthOK {
				bad(fBirthDate, dateHint)
			} else if a := age(e.BirthDate, p.today); a < 16 || a > 80 {
				bad(fBirthDate, fmt.Sprintf("implausible birth date: age %d (expected 16 to 80)", a))
				birthOK = false
			}
		}
		if v := required(fHireDate, "hire date"); v != "" {
			if e.HireDate, hireOK = parseDate(v, t.date1904, p.today); !hireOK {
				bad(fHireDate, dateHint)
			} else if e.HireDate.After(p.today.AddDate(1, 0, 0)) {
				bad(fHireDate, "hire date more than a year ahead")
				hireOK = false
			}
		}
		if birthOK && hireOK {
			switch a := age(e.BirthDate, e.HireDate); {
			case !e.HireDate.After(e.BirthDate):
				bad(fHireDate, "hire date is not after the birth date")
			case a < 14:
				bad(fHireDate, fmt.Sprintf("hired at age %d (expected 14 or more)", a))
			}
		}

		if v := required(fSalary, "gross annual salary"); v != "" {
			switch n, ok := parseNumber(v); {
			case !ok:
				bad(fSalary, "not a number")
			case n <= 0:
				bad(fSalary, "gross annual salary must be greater than 0")
			default:
				e.GrossSalary = n
				if n < 3000 {
					p.warn(t.sheet, row, h.names[fSalary], "gross annual salary below 3,000 EUR: a monthly amount?")
				}
			}
		}
		if v := required(fPaidLeave, "paid-leave days"); v != "" {
			switch n, ok := parseNumber(v); {
			case !ok:
				bad(fPaidLeave, fmt.Sprintf("not a number: %q", v))
			case n < 0 || n > 60:
				bad(fPaidLeave, fmt.Sprintf("paid-leave days must be between 0 and 60, not %g", n))
			default:
				e.PaidLeaveDays = n
			}
		}

		e.HomeAddress = get(fAddress)
		if pc, city := get(fPostcode), get(fCity); pc != "" || city != "" {
			e.HomeAddress = strings.TrimSpace(strings.TrimSuffix(e.HomeAddress, ",") + ", " + strings.TrimSpace(pc+" "+city))
			e.HomeAddress = strings.TrimPrefix(e.HomeAddress, ", ")
		}
		if e.HomeAddress == "" {
			bad(fAddress, "missing home address")
		}
		p.coordinates(t.sheet, row, h, cells, &e)

		if v := required(fCommute, "commute mode"); v != "" {
			m, ok := ParseCommuteMode(v)
			if !ok {
				bad(fCommute, fmt.Sprintf("unknown commute mode %q (expected %s, %s, %s or %s)", v,
					Walking.FrenchLabel(), Bike.FrenchLabel(), PublicTransport.FrenchLabel(), Car.FrenchLabel()))
			}
			e.CommuteMode = m
		}

		if h.has(fSport) {
			e.Sports = p.sportCell(t.sheet, row, h.names[fSport], get(fSport), e.Sports)
		}

		if len(p.report.Errors) > errs {
			p.report.Rejected++
			return
		}
		p.report.Kept++
		p.kept[e.ID] = len(p.employeesKept)
		p.employeesKept = append(p.employeesKept, e)
	})
}

// coordinates reads the optional latitude and longitude of a home.
func (p *parser) coordinates(sheet string, row int, h header, cells []string, e *Employee) {
	if !h.has(fLatitude) && !h.has(fLongitude) {
		return
	}
	lat, lon := h.cell(cells, fLatitude), h.cell(cells, fLongitude)
	if lat == "" && lon == "" {
		return
	}
	read := func(f field, v string, limit float64) (*float64, bool) {
		if v == "" {
			other := fLongitude
			if f == fLongitude {
				other = fLatitude
			}
			p.reject(sheet, row, h.names[f], fmt.Sprintf("missing %s (%s is set)", strings.ToLower(fieldInfo[f].names[0]), strings.ToLower(fieldInfo[other].names[0])))
			return nil, false
		}
		n, ok := parseNumber(v)
		switch {
		case !ok:
			p.reject(sheet, row, h.names[f], "not a number")
			return nil, false
		case n < -limit || n > limit:
			p.reject(sheet, row, h.names[f], fmt.Sprintf("%s must be between %g and %g", strings.ToLower(fieldInfo[f].names[0]), -limit, limit))
			return nil, false
		}
		return &n, true
	}
	column := func(f field) string {
		if h.has(f) {
			return h.names[f]
		}
		return fieldInfo[f].names[0]
	}
	if !h.has(fLatitude) || !h.has(fLongitude) {
		missing := fLatitude
		if h.has(fLatitude) {
			missing = fLongitude
		}
		p.reject(sheet, row, column(missing), "no "+strings.ToLower(fieldInfo[missing].names[0])+" column: give both coordinates or none")
		return
	}
	la, ok1 := read(fLatitude, lat, 90)
	lo, ok2 := read(fLongitude, lon, 180)
	if ok1 && ok2 {
		e.Latitude, e.Longitude = la, lo
	}
}

// contractTypes maps folded contract types to the way they are written.
var contractTypes = map[string]string{
	"cdi": "CDI", "cdd": "CDD", "alternance": "Alternance", "apprentissage": "Apprentissage",
	"contrat de professionnalisation": "Contrat de professionnalisation", "contrat pro": "Contrat de professionnalisation",
	"stage": "Stage", "stagiaire": "Stage", "interim": "Intérim", "cdi de chantier": "CDI de chantier",
	"permanent": "CDI", "fixed term": "CDD", "fixed-term": "CDD", "apprenticeship": "Apprentissage",
	"internship": "Stage", "intern": "Stage", "temporary": "Intérim",
}

// normalizeContract writes the usual contract types the same way ("cdi",
// "Permanent" → "CDI"); others are kept as written.
func normalizeContract(s string) string {
	if c, ok := contractTypes[fold(s)]; ok {
		return c
	}
	return s
}

// sportCell reads a cell listing sports and appends them to sports.
func (p *parser) sportCell(sheet string, row int, column, cell string, sports []string) []string {
	if noSport[fold(cell)] {
		return sports
	}
	for _, s := range splitSports(cell) {
		name, exact, ok := MatchSport(s)
		switch {
		case !ok:
			name = s
			p.warn(sheet, row, column, fmt.Sprintf("unknown sport %q kept as written", s))
		case !exact:
			p.warn(sheet, row, column, fmt.Sprintf("sport %q read as %q", s, name))
		}
		if !contains(sports, name) {
			sports = append(sports, name)
		}
	}
	return sports
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sports reads the sports sheet: one row per employee and sport (or a cell
// listing several sports).
func (p *parser) sports(t table, h header) {
	dataRows(t, h, func(row int, cells []string) {
		id := h.cell(cells, fID)
		if id == "" {
			p.reject(t.sheet, row, h.names[fID], "missing employee id")
			p.report.SportsRejected++
			return
		}
		i, ok := p.kept[id]
		if !ok {
			if _, rejected := p.seen[id]; rejected {
				// The employee's row was rejected, and reported: the sport
				// goes with it.
				p.report.SportsRejected++
				return
			}
			p.reject(t.sheet, row, h.names[fID], fmt.Sprintf("unknown employee id %s (not in the employee sheet)", id))
			p.report.SportsRejected++
			return
		}
		e := &p.employeesKept[i]
		e.Sports = p.sportCell(t.sheet, row, h.names[fSport], h.cell(cells, fSport), e.Sports)
		p.report.SportsKept++
	})
}
