package hr

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/podiumhq/podium/internal/activities/hr/sample"
)

// today is the date the tests check ages against.
var today = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func parseSample(t *testing.T, f func(Options) (Register, Report, error)) (Register, Report) {
	t.Helper()
	reg, rep, err := f(Options{Today: today})
	if err != nil {
		t.Fatalf("parse the sample: %v", err)
	}
	return reg, rep
}

// TestSampleImports checks the acceptance: the shipped sample imports from
// .xlsx and from .csv with no error nor warning, and both give the same
// register.
func TestSampleImports(t *testing.T) {
	fromXLSX, repX := parseSample(t, Sample)
	fromCSV, repC := parseSample(t, SampleCSV)
	for name, rep := range map[string]Report{"xlsx": repX, "csv": repC} {
		if len(rep.Errors) != 0 || len(rep.Warnings) != 0 {
			t.Errorf("%s: %d errors, %d warnings, want none: %v %v", name, len(rep.Errors), len(rep.Warnings), rep.Errors, rep.Warnings)
		}
		if rep.Kept != sample.Employees || rep.Rejected != 0 || rep.SportsRejected != 0 || rep.SportsKept == 0 {
			t.Errorf("%s: %s, want %d kept and nothing rejected", name, rep.Summary(), sample.Employees)
		}
	}
	if len(fromXLSX.Employees) != sample.Employees {
		t.Fatalf("%d employees from the workbook, want %d", len(fromXLSX.Employees), sample.Employees)
	}
	if !reflect.DeepEqual(fromXLSX, fromCSV) {
		for i := range fromXLSX.Employees {
			if a, b := fromXLSX.Employees[i], fromCSV.Employees[i]; !reflect.DeepEqual(a, b) {
				t.Fatalf("employee %d differs between xlsx and csv:\n%s\n%s", i, dump(a), dump(b))
			}
		}
		t.Fatal("the registers read from the workbook and the CSV files differ")
	}

	// A few values, read from date, number and text cells.
	e, ok := fromXLSX.Employee("1008")
	if !ok {
		t.Fatal("no employee 1008")
	}
	want := Employee{ID: "1008", LastName: "Picard", FirstName: "Raphaël", BirthDate: day(2003, 6, 15),
		BusinessUnit: "Ventes", HireDate: day(2026, 3, 26), GrossSalary: 18500, ContractType: "Alternance",
		PaidLeaveDays: 25, HomeAddress: "59 impasse des Mimosas, 30000 Nîmes", Latitude: ptr(43.8341),
		Longitude: ptr(4.36027), CommuteMode: Walking, Sports: []string{"Cycling"}}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("employee 1008:\n got %s\nwant %s", dump(e), dump(want))
	}
	modes := map[CommuteMode]int{}
	noCoords := 0
	for _, e := range fromXLSX.Employees {
		modes[e.CommuteMode]++
		if e.Latitude == nil {
			noCoords++
		}
	}
	for _, m := range CommuteModes {
		if modes[m] == 0 {
			t.Errorf("no employee commutes by %s", m)
		}
	}
	if noCoords != 2 {
		t.Errorf("%d employees without coordinates, want 2", noCoords)
	}
}

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func ptr(f float64) *float64 { return &f }

// dump prints every field of e, personal data included: for test failures
// only.
func dump(e Employee) string {
	lat, lon := "nil", "nil"
	if e.Latitude != nil {
		lat = strconv.FormatFloat(*e.Latitude, 'f', -1, 64)
	}
	if e.Longitude != nil {
		lon = strconv.FormatFloat(*e.Longitude, 'f', -1, 64)
	}
	return fmt.Sprintf("{%s %s %s %s %s %s %v %s %v %q %s %s %s %q}", e.ID, e.LastName, e.FirstName,
		e.BirthDate.Format(time.DateOnly), e.BusinessUnit, e.HireDate.Format(time.DateOnly), e.GrossSalary,
		e.ContractType, e.PaidLeaveDays, e.HomeAddress, lat, lon, e.CommuteMode, e.Sports)
}

// csvRows reads a CSV file of the sample.
func csvRows(t *testing.T, data []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func csvBytes(t *testing.T, rows [][]string, comma rune) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = comma
	w.UseCRLF = true
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The broken copy's edits: spreadsheet row and column (0-based) of the
// employee sheet, and the new value.
var brokenEdits = []struct {
	row, col int
	value    string
	number   float64 // written as a number cell in the workbook when not 0
}{
	{5, 3, "31/02/1980", 0},    // 1004: a date that does not exist
	{10, 0, "", 0},             // 1009: no id
	{14, 0, "1003", 1003},      // 1013: the id of row 4
	{17, 12, "Hélicoptère", 0}, // 1016: no such commute mode
	{22, 6, "-42 000", -42000}, // 1021: a negative salary
}

func brokenWant(main, sports string, lastSportsRow int) ([]RowError, []Warning) {
	errs := []RowError{
		{main, 5, "Date de naissance", dateHint},
		{main, 10, "ID salarié", "missing employee id"},
		{main, 14, "ID salarié", "duplicate employee id 1003 (first on row 4)"},
		{main, 17, "Moyen de déplacement", `unknown commute mode "Hélicoptère" (expected Marche/running, Vélo/Trottinette/Autres, Transports en commun or véhicule thermique/électrique)`},
		{main, 22, "Salaire brut", "gross annual salary must be greater than 0"},
		{sports, lastSportsRow, "ID salarié", "unknown employee id 9999 (not in the employee sheet)"},
	}
	warns := []Warning{{sports, 5, "Pratique d'un sport", `sport "Runing" read as "Running"`}}
	return errs, warns
}

// TestBrokenCopy breaks a copy of the sample — a bad date, a missing id, a
// duplicate id, an unknown commute mode, a negative salary, a misspelt
// sport and a sport of an unknown employee — and checks that exactly those
// rows are reported, with sheet, row, column and reason, and that every
// other row is kept, from a workbook and from CSV files.
func TestBrokenCopy(t *testing.T) {
	good, _ := parseSample(t, Sample)
	sportsRows := csvRows(t, sample.SportsCSV)
	if sportsRows[4][0] != "1003" || sportsRows[4][1] != "Running" {
		t.Fatalf("sports row 5 is %v, want 1003 Running: the sample changed, update the test", sportsRows[4])
	}

	brokenCSV := func(t *testing.T) (Input, *Input, string, string, int) {
		rows := csvRows(t, sample.CSV)
		for _, e := range brokenEdits {
			rows[e.row-1][e.col] = e.value
		}
		sports := csvRows(t, sample.SportsCSV)
		sports[4][1] = "Runing"
		sports = append(sports, []string{"9999", "Yoga"})
		return Input{Name: "broken.csv", R: bytes.NewReader(csvBytes(t, rows, ';'))},
			&Input{Name: "broken-sports.csv", R: bytes.NewReader(csvBytes(t, sports, ';'))},
			"broken.csv", "broken-sports.csv", len(sports)
	}
	brokenXLSX := func(t *testing.T) (Input, *Input, string, string, int) {
		f, err := excelize.OpenReader(bytes.NewReader(sample.XLSX))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, e := range brokenEdits {
			cell, _ := excelize.CoordinatesToCellName(e.col+1, e.row)
			var v any = e.value
			if e.number != 0 {
				v = e.number
			}
			if err := f.SetCellValue("Salariés", cell, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.SetCellValue("Sports", "B5", "Runing"); err != nil {
			t.Fatal(err)
		}
		last := len(sportsRows) + 1
		if err := f.SetSheetRow("Sports", fmt.Sprintf("A%d", last), &[]any{9999, "Yoga"}); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			t.Fatal(err)
		}
		return Input{Name: "broken.xlsx", R: &buf}, nil, "Salariés", "Sports", last
	}

	for _, tc := range []struct {
		name  string
		build func(t *testing.T) (Input, *Input, string, string, int)
	}{
		{"xlsx", brokenXLSX},
		{"csv", brokenCSV},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, sportsIn, main, sports, last := tc.build(t)
			reg, rep, err := Parse(in, Options{Sports: sportsIn, Today: today})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			wantErrs, wantWarns := brokenWant(main, sports, last)
			if !reflect.DeepEqual(rep.Errors, wantErrs) {
				t.Errorf("errors:\n got %q\nwant %q", rep.Errors, wantErrs)
			}
			if !reflect.DeepEqual(rep.Warnings, wantWarns) {
				t.Errorf("warnings:\n got %q\nwant %q", rep.Warnings, wantWarns)
			}
			if rep.Kept != sample.Employees-5 || rep.Rejected != 5 || rep.SportsRejected != 1 {
				t.Errorf("summary %q, want %d kept, 5 rejected, 1 sports row rejected", rep.Summary(), sample.Employees-5)
			}
			// The good rows are kept as they were.
			rejected := map[string]bool{"1004": true, "1009": true, "1013": true, "1016": true, "1021": true}
			var want []Employee
			for _, e := range good.Employees {
				if !rejected[e.ID] {
					want = append(want, e)
				}
			}
			if !reflect.DeepEqual(reg.Employees, want) {
				t.Errorf("the kept rows differ from the sample's")
			}
			if e, _ := reg.Employee("1003"); !reflect.DeepEqual(e.Sports, []string{"Running"}) {
				t.Errorf("1003 practises %q, want the misspelt sport read as Running", e.Sports)
			}
		})
	}
}

// writeEnglishCSV writes reg as an English export would: English headers
// and commute modes, ISO dates, '.' decimals.
func writeEnglishCSV(t *testing.T, reg Register, comma rune) (register, sports []byte) {
	t.Helper()
	rows := [][]string{{"Employee ID", "Last name", "First name", "Birth date", "Business unit", "Hire date",
		"Gross annual salary", "Contract type", "Paid-leave days", "Home address", "Latitude", "Longitude", "Commute mode"}}
	srows := [][]string{{"Employee ID", "Sport"}}
	for _, e := range reg.Employees {
		lat, lon := "", ""
		if e.Latitude != nil {
			lat, lon = strconv.FormatFloat(*e.Latitude, 'f', -1, 64), strconv.FormatFloat(*e.Longitude, 'f', -1, 64)
		}
		rows = append(rows, []string{e.ID, e.LastName, e.FirstName, e.BirthDate.Format(time.DateOnly), e.BusinessUnit,
			e.HireDate.Format(time.DateOnly), strconv.FormatFloat(e.GrossSalary, 'f', 2, 64), e.ContractType,
			strconv.FormatFloat(e.PaidLeaveDays, 'f', -1, 64), e.HomeAddress, lat, lon, e.CommuteMode.EnglishLabel()})
		for _, s := range e.Sports {
			srows = append(srows, []string{e.ID, s})
		}
	}
	return csvBytes(t, rows, comma), csvBytes(t, srows, comma)
}

// TestCSVEncodings reads the register from the CSV files spreadsheets save
// besides the sample's: Windows-1252 with ';' (French Excel's "CSV
// (séparateur: point-virgule)") or ',' and English headers, UTF-8 without
// BOM, and UTF-16 with tabs (Excel's "Unicode text").
func TestCSVEncodings(t *testing.T) {
	want, _ := parseSample(t, Sample)
	win := func(b []byte) []byte {
		out, err := charmap.Windows1252.NewEncoder().Bytes(b)
		if err != nil {
			t.Fatalf("encode Windows-1252: %v", err)
		}
		return out
	}
	french := func(b []byte) []byte { // the sample without BOM, NNBSP as Windows-1252 has them
		b = bytes.TrimPrefix(b, []byte("\ufeff"))
		return bytes.ReplaceAll(b, []byte("\u202f"), []byte("\u00a0"))
	}
	enC, enSportsC := writeEnglishCSV(t, want, ',')
	enT, enSportsT := writeEnglishCSV(t, want, '\t')
	utf16 := func(b []byte) []byte {
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(b)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		name             string
		register, sports []byte
		format           string
	}{
		{"windows-1252 semicolon french", win(french(sample.CSV)), win(french(sample.SportsCSV)), `CSV, Windows-1252, separator ';'`},
		{"windows-1252 comma english", win(enC), win(enSportsC), `CSV, Windows-1252, separator ','`},
		{"utf-8 comma english", enC, enSportsC, `CSV, UTF-8, separator ','`},
		{"utf-16 tab english", utf16(enT), utf16(enSportsT), `CSV, UTF-16, separator '\t'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, rep, err := Parse(Input{Name: "register.csv", R: bytes.NewReader(tc.register)},
				Options{Sports: &Input{Name: "sports.csv", R: bytes.NewReader(tc.sports)}, Today: today})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Errors)+len(rep.Warnings) != 0 {
				t.Fatalf("errors %v, warnings %v", rep.Errors, rep.Warnings)
			}
			if !strings.Contains(rep.Sources[0], tc.format) {
				t.Errorf("source %q, want it read as %s", rep.Sources[0], tc.format)
			}
			if !reflect.DeepEqual(reg, want) {
				for i := range reg.Employees {
					if !reflect.DeepEqual(reg.Employees[i], want.Employees[i]) {
						t.Fatalf("employee %d:\n got %s\nwant %s", i, dump(reg.Employees[i]), dump(want.Employees[i]))
					}
				}
				t.Fatal("registers differ")
			}
		})
	}
}

// TestCSVRowNumbers checks that rows are numbered as a spreadsheet shows
// them, blank lines and multi-line cells included, and that a sport column
// in the register itself is read.
func TestCSVRowNumbers(t *testing.T) {
	data := "ID salarié;Nom;Prénom;Date de naissance;BU;Date d'embauche;Salaire brut;Type de contrat;Nombre de jours de CP;Adresse du domicile;Moyen de déplacement;Pratique d'un sport\r\n" +
		"1;Dupont;Jean;01/02/1980;R&D;2010-03-01;45000;CDI;25;\"Résidence les Pins\nBât. B\n3 rue X, 34970 Lattes\";Vélo;Natation\r\n" +
		"\r\n" +
		"2;Durand;Marie;not a date;R&D;01/03/2010;45000;cdi;25;1 rue Y, 34000 Montpellier;Marche;non\r\n" +
		"3;Martin;Paul;15/05/1990;R&D;01/03/2015;45000;CDI;25;2 rue Z, 34000 Montpellier;voiture;Tenis / Pétanque\r\n"
	reg, rep, err := Parse(Input{Name: "r.csv", R: strings.NewReader(data)}, Options{Today: today})
	if err != nil {
		t.Fatal(err)
	}
	// A multi-line cell is one row; the blank line is row 3.
	wantErrs := []RowError{{"r.csv", 4, "Date de naissance", dateHint}}
	if !reflect.DeepEqual(rep.Errors, wantErrs) {
		t.Errorf("errors %q, want %q", rep.Errors, wantErrs)
	}
	wantWarns := []Warning{{"r.csv", 5, "Pratique d'un sport", `sport "Tenis" read as "Tennis"`}}
	if !reflect.DeepEqual(rep.Warnings, wantWarns) {
		t.Errorf("warnings %q, want %q", rep.Warnings, wantWarns)
	}
	if len(reg.Employees) != 2 || !reflect.DeepEqual(reg.Employees[0].Sports, []string{"Swimming"}) ||
		!reflect.DeepEqual(reg.Employees[1].Sports, []string{"Tennis", "Pétanque"}) || reg.Employees[1].CommuteMode != Car {
		t.Errorf("kept %v", reg.Employees)
	}
}

// TestRowChecks checks each validation rule on one row.
func TestRowChecks(t *testing.T) {
	head := "ID salarié;Nom;Prénom;Date de naissance;BU;Date d'embauche;Salaire brut;Type de contrat;Nombre de jours de CP;Adresse du domicile;Latitude;Longitude;Moyen de déplacement\n"
	good := []string{"7", "Roux", "Léa", "12/04/1990", "RH", "01/09/2015", "41 000", "CDI", "25", "3 rue A, 34970 Lattes", "43,57", "3,90", "Transports en commun"}
	tests := []struct {
		name   string
		col    int
		value  string
		column string
		reason string
	}{
		{"last name", 1, "", "Nom", "missing last name"},
		{"first name", 2, " ", "Prénom", "missing first name"},
		{"birth date missing", 3, "", "Date de naissance", "missing birth date"},
		{"too young", 3, "01/01/2015", "Date de naissance", "implausible birth date: age 11 (expected 16 to 80)"},
		{"too old", 3, "01/01/1930", "Date de naissance", "implausible birth date: age 96 (expected 16 to 80)"},
		{"business unit", 4, "", "BU", "missing business unit"},
		{"hire before birth", 5, "01/01/1985", "Date d'embauche", "hire date is not after the birth date"},
		{"hired as a child", 5, "01/01/2000", "Date d'embauche", "hired at age 9 (expected 14 or more)"},
		{"hire far ahead", 5, "01/01/2030", "Date d'embauche", "hire date more than a year ahead"},
		{"hire not a date", 5, "bientôt", "Date d'embauche", dateHint},
		{"salary text", 6, "beaucoup", "Salaire brut", "not a number"},
		{"salary zero", 6, "0", "Salaire brut", "gross annual salary must be greater than 0"},
		{"contract", 7, "", "Type de contrat", "missing contract type"},
		{"paid leave", 8, "75", "Nombre de jours de CP", "paid-leave days must be between 0 and 60, not 75"},
		{"paid leave text", 8, "vingt", "Nombre de jours de CP", `not a number: "vingt"`},
		{"address", 9, "", "Adresse du domicile", "missing home address"},
		{"latitude range", 10, "95", "Latitude", "latitude must be between -90 and 90"},
		{"longitude missing", 11, "", "Longitude", "missing longitude (latitude is set)"},
		{"commute", 12, "", "Moyen de déplacement", "missing commute mode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := append([]string(nil), good...)
			row[tc.col] = tc.value
			_, rep, err := Parse(Input{Name: "r.csv", R: strings.NewReader(head + strings.Join(row, ";") + "\n")}, Options{Today: today})
			if err != nil {
				t.Fatal(err)
			}
			want := []RowError{{"r.csv", 2, tc.column, tc.reason}}
			if !reflect.DeepEqual(rep.Errors, want) || rep.Rejected != 1 || rep.Kept != 0 {
				t.Errorf("got %q (%s), want %q", rep.Errors, rep.Summary(), want)
			}
		})
	}
	// The good row itself passes.
	reg, rep, err := Parse(Input{Name: "r.csv", R: strings.NewReader(head + strings.Join(good, ";") + "\n")}, Options{Today: today})
	if err != nil || len(rep.Errors) != 0 || len(reg.Employees) != 1 {
		t.Fatalf("good row: %v %v", err, rep.Errors)
	}
}

// TestPersonalDataNotPrinted checks that formatting or logging an employee
// (or a register) shows none of the salary, birth date, address and
// coordinates, and that row errors do not quote them.
func TestPersonalDataNotPrinted(t *testing.T) {
	reg, _ := parseSample(t, Sample)
	e, _ := reg.Employee("1008")
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("imported", "employee", e, "employees", reg.Employees[:3])
	outputs := map[string]string{
		"%v":  fmt.Sprintf("%v", e),
		"%+v": fmt.Sprintf("%+v", e),
		"%#v": fmt.Sprintf("%#v", e),
		"%s":  fmt.Sprintf("%s", e),
		"reg": fmt.Sprintf("%+v", reg),
		"ptr": fmt.Sprintf("%v", &e),
		"log": logged.String(),
	}
	secrets := []string{"18500", "18 500", "2003", "Mimosas", "Nîmes", "43.83", "4.36"}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s prints %q: %s", name, s, out)
			}
		}
		if !strings.Contains(out, "1008") && name != "reg" {
			t.Errorf("%s does not name the employee: %s", name, out)
		}
	}
	// Row errors on sensitive columns name the problem, not the value.
	data := "ID salarié;Nom;Prénom;Date de naissance;BU;Date d'embauche;Salaire brut;Type de contrat;Nombre de jours de CP;Adresse du domicile;Moyen de déplacement\n" +
		"1;A;B;31/13/1984;RH;01/01/2010;-51234;CDI;25;9 rue Secrète;Vélo\n"
	_, rep, err := Parse(Input{Name: "r.csv", R: strings.NewReader(data)}, Options{Today: today})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rep.Errors {
		if strings.Contains(e.Error(), "1984") || strings.Contains(e.Error(), "51234") {
			t.Errorf("row error quotes personal data: %s", e.Error())
		}
	}
	if len(rep.Errors) != 2 {
		t.Errorf("errors %q, want the birth date and the salary", rep.Errors)
	}
}

// TestMissingColumns checks that a register without a required column is
// refused as a whole, naming the column.
func TestMissingColumns(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"no register", "a;b;c\n1;2;3\n", "no employee sheet found"},
		{"no commute", "ID salarié;Nom;Prénom;Date de naissance;BU;Date d'embauche;Salaire brut;Type de contrat;Nombre de jours de CP;Adresse du domicile\n",
			"missing columns: Moyen de déplacement (Commute mode)"},
		{"no salary nor leave", "Employee ID;Last name;First name;Birth date;Business unit;Hire date;Contract type;Home address;Commute mode\n",
			"missing columns: Salaire brut (Gross annual salary), Nombre de jours de CP (Paid-leave days)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse(Input{Name: "r.csv", R: strings.NewReader(tc.data)}, Options{Today: today})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	_, _, err := Parse(Input{Name: "r.xls", R: strings.NewReader("\xd0\xcf\x11\xe0 old")}, Options{})
	if err == nil || !strings.Contains(err.Error(), "save it as .xlsx") {
		t.Errorf("legacy .xls: %v", err)
	}
	good := string(bytes.TrimPrefix(sample.CSV, []byte("\ufeff")))
	_, _, err = Parse(Input{Name: "r.csv", R: strings.NewReader(good)}, Options{Sports: &Input{Name: "s.csv", R: strings.NewReader("x;y\n")}})
	if err == nil || !strings.Contains(err.Error(), "no sports sheet found") {
		t.Errorf("sports file without sports sheet: %v", err)
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in       string
		date1904 bool
		want     time.Time
		ok       bool
	}{
		{"15/03/1985", false, day(1985, 3, 15), true},
		{"5/3/1985", false, day(1985, 3, 5), true},
		{"15-03-1985", false, day(1985, 3, 15), true},
		{"15.03.1985", false, day(1985, 3, 15), true},
		{"15/03/85", false, day(1985, 3, 15), true},
		{"15/03/05", false, day(2005, 3, 15), true},
		{"1985-03-15", false, day(1985, 3, 15), true},
		{"1985/03/15", false, day(1985, 3, 15), true},
		{"1985-03-15T00:00:00Z", false, day(1985, 3, 15), true},
		{"15/03/1985 00:00", false, day(1985, 3, 15), true},
		{"31130", false, day(1985, 3, 24), true}, // Excel serial
		{"31130.75", false, day(1985, 3, 24), true},
		{"29668", true, day(1985, 3, 24), true}, // 1904 date system
		{"45658", false, day(2025, 1, 1), true},
		{"31/02/1980", false, time.Time{}, false},
		{"13/13/1980", false, time.Time{}, false},
		{"03/15/1985", false, time.Time{}, false}, // US order is not read
		{"", false, time.Time{}, false},
		{"-5", false, time.Time{}, false},
		{"demain", false, time.Time{}, false},
	}
	for _, tc := range tests {
		got, ok := parseDate(tc.in, tc.date1904, today)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseDate(%q, %v) = %v, %v; want %v, %v", tc.in, tc.date1904, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"42000", 42000, true},
		{"42 000", 42000, true},
		{"42\u202f000", 42000, true},
		{"42\u00a0000,50", 42000.5, true},
		{"42 000,50 €", 42000.5, true},
		{"42,000.50", 42000.5, true},
		{"42.000,50", 42000.5, true},
		{"1,234,567", 1234567, true},
		{"43,5673", 43.5673, true},
		{"-3.9", -3.9, true},
		{"-42 000", -42000, true},
		{"25 jours", 25, true},
		{"4.2E4", 42000, true},
		{"", 0, false},
		{"abc", 0, false},
		{"1,2,3.4,5", 0, false},
		{"NaN", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseNumber(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseNumber(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseCommuteMode(t *testing.T) {
	tests := []struct {
		in   string
		want CommuteMode
		ok   bool
	}{
		{"Marche/running", Walking, true},
		{"marche / Running", Walking, true},
		{"MARCHE", Walking, true},
		{"Walking", Walking, true},
		{"walking_running", Walking, true},
		{"Vélo/Trottinette/Autres", Bike, true},
		{"velo/trottinette/autres", Bike, true},
		{"Vélo", Bike, true},
		{"bike/scooter/other", Bike, true},
		{"Transports en commun", PublicTransport, true},
		{"transport en commun", PublicTransport, true},
		{"Tramway", PublicTransport, true},
		{"Public transport", PublicTransport, true},
		{"véhicule thermique/électrique", Car, true},
		{"Vehicule thermique / electrique", Car, true},
		{"Véhicule électrique", Car, true},
		{"Voiture", Car, true},
		{"car", Car, true},
		{"Hélicoptère", "", false},
		{"vélo/voiture", "", false}, // two modes
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := ParseCommuteMode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseCommuteMode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMatchSport(t *testing.T) {
	tests := []struct {
		in, want  string
		exact, ok bool
	}{
		{"Running", "Running", true, true},
		{"running", "Running", true, true},
		{"Course à pied", "Running", true, true},
		{"course a pied", "Running", true, true},
		{"Runing", "Running", false, true},
		{"Runnning", "Running", false, true},
		{"Natation", "Swimming", true, true},
		{"Natattion", "Swimming", false, true},
		{"Équitation", "Horse riding", true, true},
		{"Equitation", "Horse riding", true, true},
		{"Tennis de table", "Table tennis", true, true},
		{"Tenis", "Tennis", false, true},
		{"Escallade", "Climbing", false, true},
		{"Curling", "", false, false},
		{"Xyz", "", false, false},
		{"", "", false, false},
	}
	for _, tc := range tests {
		got, exact, ok := MatchSport(tc.in)
		if got != tc.want || exact != tc.exact || ok != tc.ok {
			t.Errorf("MatchSport(%q) = %q, %v, %v; want %q, %v, %v", tc.in, got, exact, ok, tc.want, tc.exact, tc.ok)
		}
	}
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		header string
		want   field
	}{
		{"ID salarié", fID},
		{"  id SALARIE ", fID},
		{"Employee ID", fID},
		{"Matricule", fID},
		{"Nom", fLastName},
		{"Prénom", fFirstName},
		{"PRENOM", fFirstName},
		{"Date de naissance", fBirthDate},
		{"Date d’embauche", fHireDate},
		{"date d'embauche", fHireDate},
		{"Salaire brut (€)", fSalary},
		{"Salaire brut annuel en euros", fSalary},
		{"Gross annual salary", fSalary},
		{"Nombre de jours de CP", fPaidLeave},
		{"Paid-leave days", fPaidLeave},
		{"Adresse du domicile", fAddress},
		{"Moyen de déplacement", fCommute},
		{"Commute mode", fCommute},
		{"Pratique d'un sport", fSport},
		{"BU", fBusinessUnit},
	}
	for _, tc := range tests {
		h := readHeader(1, []string{"x", tc.header})
		if h.col[tc.want] != 1 {
			t.Errorf("header %q not read as field %d (%s)", tc.header, tc.want, tc.want.label())
		}
	}
	if h := readHeader(1, []string{"Nombre"}); h.known != 0 {
		t.Errorf(`"Nombre" matched a column`)
	}
}

func TestSniffSeparator(t *testing.T) {
	tests := []struct {
		in   string
		want rune
	}{
		{"a;b;c\n1,5;2;3", ';'},
		{"a,b,c\n1;2;3", ','},
		{"a\tb\tc\n", '\t'},
		{`"a;x",b,c` + "\n", ','},
		{"\n\na;b\n", ';'},
		{"single\n", ';'},
	}
	for _, tc := range tests {
		if got := sniffSeparator([]byte(tc.in)); got != tc.want {
			t.Errorf("sniffSeparator(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
