package hr

import (
	"bytes"

	"github.com/podiumhq/podium/internal/activities/hr/sample"
)

// Sample parses the synthetic register shipped with podium (the workbook
// sample/register.xlsx, with its Sports sheet), for `podium demo`.
func Sample(opts Options) (Register, Report, error) {
	opts.Sports = nil
	return Parse(Input{Name: sample.XLSXName, R: bytes.NewReader(sample.XLSX)}, opts)
}

// SampleCSV parses the CSV exports of the same register (sample/register.csv
// and sample/sports.csv).
func SampleCSV(opts Options) (Register, Report, error) {
	opts.Sports = &Input{Name: sample.SportsName, R: bytes.NewReader(sample.SportsCSV)}
	return Parse(Input{Name: sample.CSVName, R: bytes.NewReader(sample.CSV)}, opts)
}
