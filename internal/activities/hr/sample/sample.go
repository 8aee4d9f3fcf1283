// Package sample holds the synthetic HR register podium ships for its demo
// and tests: about 160 employees of a company whose office is at Lattes,
// near Montpellier, in six business units, with homes around the office (and
// a few far away), commute modes, and the sports they practise. Nobody in it
// is real (see LICENSE-NOTE).
//
// The register comes as HR would send it: an Excel workbook (register.xlsx,
// sheets "Salariés" and "Sports", real date and number cells) and the same
// data as CSV exports (register.csv and sports.csv: French headers, ';'
// separators, dd/mm/yyyy dates, UTF-8 with a byte-order mark, as Excel's
// "CSV UTF-8" saves them).
//
// The files are generated: `go test ./internal/activities/hr/sample -update`
// writes them again, and the package's test checks that they are up to date.
package sample

import _ "embed" // the sample files

// The names of the sample files.
const (
	XLSXName   = "register.xlsx"
	CSVName    = "register.csv"
	SportsName = "sports.csv"
)

// The sample files' contents.
var (
	//go:embed register.xlsx
	XLSX []byte
	//go:embed register.csv
	CSV []byte
	//go:embed sports.csv
	SportsCSV []byte
)

// The office every employee of the sample commutes to: Parc de la
// Méditerranée, Lattes.
const (
	OfficeAddress   = "Parc de la Méditerranée, 34970 Lattes, France"
	OfficeLatitude  = 43.5673
	OfficeLongitude = 3.9089
)

// Employees is the number of employees in the sample.
const Employees = 160
