package hr

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/podiumhq/podium/internal/activities/hr/sample"
)

// checkRegister fails the test when a kept employee holds text no store
// column keeps (NUL, invalid UTF-8) or no id.
func checkRegister(t *testing.T, reg Register) {
	t.Helper()
	for _, e := range reg.Employees {
		texts := []string{e.ID, e.LastName, e.FirstName, e.BusinessUnit, e.ContractType, e.HomeAddress, string(e.CommuteMode)}
		texts = append(texts, e.Sports...)
		for _, s := range texts {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("kept employee %s with the text %q: not storable", e.ID, s)
			}
		}
		if e.ID == "" {
			t.Fatal("kept an employee without an id")
		}
	}
}

// csvHead is the sample register's header and first rows.
func csvHead(n int) string {
	lines := strings.SplitAfter(string(sample.CSV), "\n")
	return strings.Join(lines[:n], "")
}

// FuzzParseCSV feeds CSV registers (any separator, encoding, junk)
// through Parse: no panic, and what it keeps can be stored.
func FuzzParseCSV(f *testing.F) {
	head := csvHead(4)
	for _, seed := range []string{
		head,
		strings.ReplaceAll(head, ";", ","),
		strings.Replace(head, "Mercier", "Mer\x00cier", 1),
		strings.Replace(head, "Mercier", "Merc\xe9ier", 1), // Windows-1252
		"ID;Nom\n1;\"unterminated\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		reg, _, err := Parse(Input{Name: "register.csv", R: bytes.NewReader(data)}, Options{Today: today})
		if err != nil {
			return
		}
		checkRegister(t, reg)
	})
}

// FuzzParseXLSX feeds workbooks (the sample, mutated) through Parse.
func FuzzParseXLSX(f *testing.F) {
	f.Add(sample.XLSX)
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reg, _, err := Parse(Input{Name: "register.xlsx", R: bytes.NewReader(data)}, Options{Today: today})
		if err != nil {
			return
		}
		checkRegister(t, reg)
	})
}
