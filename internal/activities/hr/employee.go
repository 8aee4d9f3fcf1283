// Package hr imports the HR register of a company — its employees, how they
// commute and the sports they practise — from the spreadsheets HR keeps
// (.xlsx workbooks or CSV exports, French or English headers) and stores it
// in the hr_employees and hr_employee_sports tables.
//
// The register holds personal data: gross salaries, birth dates and home
// addresses (and the coordinates of the home). They stay in those tables.
// Employee's String, GoString and LogValue leave them out, and the row
// errors of an import never quote them, so that they reach no log, topic,
// chat message or public page.
package hr

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// CommuteMode is how an employee declares going from home to the office.
type CommuteMode string

// The commute modes of the register.
const (
	Walking         CommuteMode = "walking_running"    // Marche/running
	Bike            CommuteMode = "bike_scooter_other" // Vélo/Trottinette/Autres
	PublicTransport CommuteMode = "public_transport"   // Transports en commun
	Car             CommuteMode = "car"                // véhicule thermique/électrique
)

// CommuteModes lists the commute modes, the active ones first.
var CommuteModes = []CommuteMode{Walking, Bike, PublicTransport, Car}

// Valid reports whether m is one of the four commute modes.
func (m CommuteMode) Valid() bool {
	switch m {
	case Walking, Bike, PublicTransport, Car:
		return true
	}
	return false
}

// Active reports whether m is a sporting commute (walking or running, bike,
// scooter or other muscle-powered means).
func (m CommuteMode) Active() bool { return m == Walking || m == Bike }

// FrenchLabel returns m as French HR registers write it.
func (m CommuteMode) FrenchLabel() string {
	switch m {
	case Walking:
		return "Marche/running"
	case Bike:
		return "Vélo/Trottinette/Autres"
	case PublicTransport:
		return "Transports en commun"
	case Car:
		return "véhicule thermique/électrique"
	}
	return string(m)
}

// EnglishLabel returns m in English.
func (m CommuteMode) EnglishLabel() string {
	switch m {
	case Walking:
		return "Walking/running"
	case Bike:
		return "Bike/scooter/other"
	case PublicTransport:
		return "Public transport"
	case Car:
		return "Car"
	}
	return string(m)
}

// commuteAliases maps folded spellings (see fold) of commute modes, in
// French and English, to the mode.
var commuteAliases = map[string]CommuteMode{}

func init() {
	add := func(m CommuteMode, names ...string) {
		for _, n := range names {
			commuteAliases[fold(n)] = m
		}
	}
	add(Walking, string(Walking), "Marche/running", "marche", "marche à pied", "à pied", "a pied", "pied",
		"running", "course", "course à pied", "marche/course", "walking", "walk", "running/walking",
		"walking/running", "walking or running", "on foot", "foot", "run", "jogging")
	add(Bike, string(Bike), "Vélo/Trottinette/Autres", "vélo", "velo", "vélo/trottinette", "trottinette", "autres",
		"autre", "vae", "vélo électrique", "vélo à assistance électrique", "trottinette électrique", "gyroroue",
		"roller", "rollers", "skate", "bike", "bicycle", "cycling", "e-bike", "ebike", "scooter", "e-scooter",
		"kick scooter", "bike/scooter/other", "bike/scooter", "bike, scooter, other", "other", "others")
	add(PublicTransport, string(PublicTransport), "Transports en commun", "transport en commun", "transports",
		"tram", "tramway", "bus", "train", "ter", "métro", "metro", "autocar", "navette",
		"public transport", "public transportation", "public transit", "transit")
	add(Car, string(Car), "véhicule thermique/électrique", "véhicule thermique", "véhicule électrique",
		"véhicule", "vehicule thermique/electrique", "voiture", "voiture électrique", "voiture thermique",
		"covoiturage", "moto", "scooter thermique", "deux-roues motorisé", "car", "electric car",
		"car (petrol/electric)", "car (thermal/electric)", "motorbike", "motorcycle", "carpool", "carpooling",
		"vehicle", "motor vehicle", "petrol/electric vehicle")
}

// ParseCommuteMode reads a commute mode as written in a register, in French
// or English, in any case and with or without accents ("Marche/running",
// "Vélo/Trottinette/Autres", "Transports en commun", "véhicule
// thermique/électrique", "walking", "bike", "public transport", "car", …).
func ParseCommuteMode(s string) (CommuteMode, bool) {
	k := fold(s)
	if k == "" {
		return "", false
	}
	if m, ok := commuteAliases[k]; ok {
		return m, true
	}
	// "Marche / running", "Vélo - trottinette": every part names the same mode.
	parts := strings.FieldsFunc(k, func(r rune) bool { return r == '/' || r == '-' || r == ',' || r == '+' })
	var mode CommuteMode
	for _, p := range parts {
		m, ok := commuteAliases[strings.TrimSpace(p)]
		if !ok || (mode != "" && m != mode) {
			return "", false
		}
		mode = m
	}
	return mode, mode != ""
}

// Employee is one row of the HR register, with the sports the employee
// practises.
//
// GrossSalary, BirthDate, HomeAddress, Latitude and Longitude are personal
// data: String, GoString and LogValue omit them.
type Employee struct {
	ID            string
	LastName      string
	FirstName     string
	BirthDate     time.Time // a date: midnight UTC
	BusinessUnit  string
	HireDate      time.Time // a date: midnight UTC
	GrossSalary   float64   // gross annual salary, in euros
	ContractType  string    // CDI, CDD, Alternance, Stage, …
	PaidLeaveDays float64
	HomeAddress   string
	// Latitude and Longitude place the home when the register has them
	// (WGS 84 degrees); nil when it does not.
	Latitude, Longitude *float64
	CommuteMode         CommuteMode
	// Sports are the sports practised, by their canonical names (see
	// MatchSport), in the order the register gives them.
	Sports []string
}

// String describes e without its personal data.
func (e Employee) String() string {
	return fmt.Sprintf("employee %s (%s, %s, %s)", e.ID, e.BusinessUnit, e.ContractType, e.CommuteMode)
}

// GoString is String, so that %#v does not print the personal data either.
func (e Employee) GoString() string { return "hr.Employee{" + e.String() + "}" }

// Format prints e as String does with every verb, so that %v, %+v and %#v
// on an Employee or on a struct or slice holding one never print the
// personal data.
func (e Employee) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(e.GoString()))
		return
	}
	_, _ = f.Write([]byte(e.String()))
}

// LogValue logs e without its personal data.
func (e Employee) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", e.ID),
		slog.String("business_unit", e.BusinessUnit),
		slog.String("contract_type", e.ContractType),
		slog.String("commute_mode", string(e.CommuteMode)),
		slog.Bool("has_coordinates", e.Latitude != nil && e.Longitude != nil),
		slog.Int("sports", len(e.Sports)),
	)
}

// Register is an imported HR register.
type Register struct {
	// Employees are the kept rows, in the order of the file.
	Employees []Employee
}

// Employee returns the employee with the given id.
func (r Register) Employee(id string) (Employee, bool) {
	for _, e := range r.Employees {
		if e.ID == id {
			return e, true
		}
	}
	return Employee{}, false
}
