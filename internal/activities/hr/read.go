package hr

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// table is one sheet of a workbook or one CSV file, as raw cell texts.
type table struct {
	sheet    string     // the sheet's name, or the CSV file's base name
	rows     [][]string // the rows, in order
	rowNums  []int      // rowNums[i] is the spreadsheet number of rows[i]
	date1904 bool       // the workbook counts date serials from 1904
	format   string     // how the file was read, for the report
}

// maxFileSize bounds what Parse reads from one input.
const maxFileSize = 64 << 20

// readTables reads the sheets of an .xlsx workbook or the one table of a
// CSV file, deciding by the name's extension (.xlsx, .xlsm; .csv, .txt,
// .tsv) and, when the name says nothing, by the content.
func readTables(name string, r io.Reader) ([]table, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("read %s: larger than %d MiB", name, maxFileSize>>20)
	}
	ext := strings.ToLower(filepath.Ext(name))
	isZip := bytes.HasPrefix(data, []byte("PK\x03\x04"))
	switch {
	case ext == ".xls" || bytes.HasPrefix(data, []byte{0xd0, 0xcf, 0x11, 0xe0}):
		return nil, fmt.Errorf("read %s: a legacy .xls workbook: save it as .xlsx (Excel Workbook) or as CSV", name)
	case ext == ".xlsx" || ext == ".xlsm" || (ext != ".csv" && isZip):
		if !isZip {
			return nil, fmt.Errorf("read %s: not an .xlsx workbook (no zip signature)", name)
		}
		return readXLSX(name, data)
	case ext == ".ods" || ext == ".numbers":
		return nil, fmt.Errorf("read %s: %s files are not supported: export the sheet as .xlsx or CSV", name, ext)
	}
	t, err := readCSV(name, data)
	if err != nil {
		return nil, err
	}
	return []table{t}, nil
}

// readXLSX reads every sheet of a workbook, with raw cell values: date
// cells as their serial numbers, number cells as plain numbers, text as
// text.
func readXLSX(name string, data []byte) ([]table, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("open workbook %s: %w", name, err)
	}
	defer func() { _ = f.Close() }()
	date1904 := false
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		date1904 = *props.Date1904
	}
	var tables []table
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, fmt.Errorf("read sheet %q of %s: %w", sheet, name, err)
		}
		t := table{sheet: sheet, rows: rows, rowNums: make([]int, len(rows)), date1904: date1904, format: "xlsx"}
		for i := range rows {
			t.rowNums[i] = i + 1
		}
		tables = append(tables, t)
	}
	return tables, nil
}

// readCSV reads a CSV export: UTF-8 with or without a byte-order mark,
// UTF-16 with one (Excel's "Unicode text"), or Windows-1252 when the bytes
// are not valid UTF-8; fields separated by ';' (French Excel), ',' or tabs,
// found from the header line.
func readCSV(name string, data []byte) (table, error) {
	t := table{sheet: filepath.Base(name)}
	var encoding string
	switch {
	case bytes.HasPrefix(data, []byte{0xef, 0xbb, 0xbf}):
		data, encoding = data[3:], "UTF-8 with BOM"
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}), bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()
		out, err := dec.Bytes(data)
		if err != nil {
			return t, fmt.Errorf("read %s: bad UTF-16 text: %w", name, err)
		}
		data, encoding = out, "UTF-16"
	case utf8.Valid(data):
		encoding = "UTF-8"
	default:
		out, err := charmap.Windows1252.NewDecoder().Bytes(data)
		if err != nil {
			return t, fmt.Errorf("read %s as Windows-1252: %w", name, err)
		}
		data, encoding = out, "Windows-1252"
	}
	sep := sniffSeparator(data)
	t.format = fmt.Sprintf("CSV, %s, separator %q", encoding, sep)

	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = sep
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	// csv.Reader skips blank lines and joins quoted multi-line fields, but a
	// spreadsheet shows a blank line as an empty row and a multi-line cell
	// in one row: count rows as it does.
	extra := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return t, fmt.Errorf("read %s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		t.rows = append(t.rows, rec)
		t.rowNums = append(t.rowNums, line-extra)
		for _, f := range rec {
			extra += strings.Count(f, "\n")
		}
	}
	return t, nil
}

// sniffSeparator picks the separator of a CSV file among ';', ',' and tab:
// the one that occurs most often outside quotes in its first non-blank
// line, ';' on a tie (French Excel).
func sniffSeparator(data []byte) rune {
	counts := map[rune]int{}
	inQuotes := false
	seen := false
	for _, r := range string(data) {
		switch {
		case r == '"':
			inQuotes = !inQuotes
		case inQuotes:
		case r == '\n' || r == '\r':
			if seen {
				goto done
			}
		case r == ';' || r == ',' || r == '\t':
			counts[r]++
			seen = true
		default:
			if r != ' ' {
				seen = true
			}
		}
	}
done:
	best, n := ';', counts[';']
	for _, r := range []rune{',', '\t'} {
		if counts[r] > n {
			best, n = r, counts[r]
		}
	}
	return best
}
