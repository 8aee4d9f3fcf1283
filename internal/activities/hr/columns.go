package hr

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// fold lowers s, removes its accents and ligatures, turns punctuation into
// spaces (except '/', which separates alternatives) and collapses spaces:
// "  Date d'embauche " and "DATE D EMBAUCHE" both fold to "date d embauche".
func fold(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'œ' || r == 'Œ':
			b.WriteString("oe")
		case r == 'æ' || r == 'Æ':
			b.WriteString("ae")
		case r == 'ß':
			b.WriteString("ss")
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '/':
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		default:
			space = true
		}
	}
	return strings.ReplaceAll(strings.ReplaceAll(b.String(), " /", "/"), "/ ", "/")
}

// foldHeader folds a column header and drops what headers add around the
// name: a unit in parentheses or brackets ("Salaire brut (€)") and a
// trailing currency ("Salaire brut en euros").
func foldHeader(s string) string {
	for _, p := range [][2]string{{"(", ")"}, {"[", "]"}} {
		for {
			i := strings.Index(s, p[0])
			j := strings.Index(s, p[1])
			if i < 0 || j < i {
				break
			}
			s = s[:i] + " " + s[j+1:]
		}
	}
	f := strings.ReplaceAll(fold(s), "/", " ")
	for _, suffix := range []string{" en euros", " en eur", " euros", " eur"} {
		f = strings.TrimSuffix(f, suffix)
	}
	return f
}

// field is a column the importer knows.
type field int

const (
	fID field = iota
	fLastName
	fFirstName
	fBirthDate
	fBusinessUnit
	fHireDate
	fSalary
	fContract
	fPaidLeave
	fAddress
	fCommute
	fPostcode
	fCity
	fLatitude
	fLongitude
	fSport
	nFields
)

// fieldInfo describes a column: the names it is found by (French first, as
// written in French registers, then English and usual variants) and whether
// an employee sheet must have it.
var fieldInfo = [nFields]struct {
	names    []string
	required bool
}{
	fID:           {[]string{"ID salarié", "Employee ID", "ID", "Identifiant", "Identifiant salarié", "Matricule", "N° salarié", "Numéro salarié", "Numéro de salarié", "Employee number", "Emp ID", "Staff ID"}, true},
	fLastName:     {[]string{"Nom", "Last name", "Nom de famille", "Surname", "Family name", "Lastname"}, true},
	fFirstName:    {[]string{"Prénom", "First name", "Given name", "Firstname"}, true},
	fBirthDate:    {[]string{"Date de naissance", "Birth date", "Date of birth", "Birthdate", "DOB", "Né le", "Née le"}, true},
	fBusinessUnit: {[]string{"BU", "Business unit", "Unité", "Unité opérationnelle", "Département", "Department", "Direction", "Service"}, true},
	fHireDate:     {[]string{"Date d'embauche", "Hire date", "Date embauche", "Date d'entrée", "Date of hire", "Hiring date", "Start date"}, true},
	fSalary:       {[]string{"Salaire brut", "Gross annual salary", "Salaire brut annuel", "Salaire annuel brut", "Salaire", "Rémunération brute annuelle", "Gross salary", "Annual gross salary", "Salary"}, true},
	fContract:     {[]string{"Type de contrat", "Contract type", "Contrat", "Contract", "Type of contract"}, true},
	fPaidLeave:    {[]string{"Nombre de jours de CP", "Paid-leave days", "Jours de CP", "Nombre de CP", "Congés payés", "Nombre de jours de congés payés", "Jours de congés payés", "Paid leave days", "Paid leave", "Annual leave days", "Annual leave", "PTO days"}, true},
	fAddress:      {[]string{"Adresse du domicile", "Home address", "Adresse", "Adresse domicile", "Adresse personnelle", "Address"}, true},
	fCommute:      {[]string{"Moyen de déplacement", "Commute mode", "Mode de déplacement", "Moyen de transport", "Mode de transport", "Déplacement domicile-travail", "Commute", "Commuting mode", "Transport mode", "Mode of transport"}, true},
	fPostcode:     {[]string{"Code postal", "Postcode", "CP domicile", "Postal code", "Zip code", "ZIP"}, false},
	fCity:         {[]string{"Ville", "City", "Commune", "Town"}, false},
	fLatitude:     {[]string{"Latitude", "Lat"}, false},
	fLongitude:    {[]string{"Longitude", "Lon", "Lng", "Long"}, false},
	fSport:        {[]string{"Pratique d'un sport", "Sport", "Sport practised", "Sport pratiqué", "Sports pratiqués", "Sports", "Sport practiced", "Activité sportive"}, false},
}

// label returns the name of f for messages: its French and English names.
func (f field) label() string {
	n := fieldInfo[f].names
	return n[0] + " / " + n[1]
}

var headerFields = map[string]field{}

func init() {
	for f := field(0); f < nFields; f++ {
		for _, n := range fieldInfo[f].names {
			headerFields[foldHeader(n)] = f
		}
	}
}

// header is the header row of a sheet: where each known column is.
type header struct {
	row   int              // spreadsheet row number of the header
	col   [nFields]int     // index of each field's column, -1 if absent
	names [nFields]string  // each field's header as written in the file
	dups  map[field]string // second columns for a field already found
	known int              // fields found
}

// readHeader matches the cells of a row against the known column names.
func readHeader(row int, cells []string) header {
	h := header{row: row}
	for i := range h.col {
		h.col[i] = -1
	}
	for i, c := range cells {
		f, ok := headerFields[foldHeader(c)]
		if !ok {
			continue
		}
		if h.col[f] >= 0 {
			if h.dups == nil {
				h.dups = map[field]string{}
			}
			h.dups[f] = strings.TrimSpace(c)
			continue
		}
		h.col[f] = i
		h.names[f] = strings.TrimSpace(c)
		h.known++
	}
	return h
}

func (h header) has(f field) bool { return h.col[f] >= 0 }

// employeeColumns counts the employee columns (all but the sport) of h.
func (h header) employeeColumns() int {
	n := 0
	for f := fID; f <= fCommute; f++ {
		if h.has(f) {
			n++
		}
	}
	return n
}

// isEmployeeSheet reports whether h looks like the header of the register:
// an id and most employee columns.
func (h header) isEmployeeSheet() bool { return h.has(fID) && h.employeeColumns() >= 6 }

// isSportsSheet reports whether h is the header of a sports sheet: an id
// and a sport, and not the register itself.
func (h header) isSportsSheet() bool {
	return h.has(fID) && h.has(fSport) && !h.isEmployeeSheet()
}

// missing lists the required employee columns h lacks.
func (h header) missing() []field {
	var out []field
	for f := field(0); f < nFields; f++ {
		if fieldInfo[f].required && !h.has(f) {
			out = append(out, f)
		}
	}
	return out
}

// cell returns the trimmed value of field f in a data row.
func (h header) cell(cells []string, f field) string {
	i := h.col[f]
	if i < 0 || i >= len(cells) {
		return ""
	}
	return cleanCell(cells[i])
}

// cleanCell trims a cell, turns the non-breaking spaces spreadsheets use
// into plain spaces and drops NUL characters and invalid UTF-8.
func cleanCell(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\u00a0', '\u202f', '\u2007', '\u2009':
			return ' '
		case '\ufeff', 0: // a BOM; a NUL, which no text column keeps
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	return strings.TrimSpace(s)
}
