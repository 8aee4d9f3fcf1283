package sample_test

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/hr/sample"
)

var update = flag.Bool("update", false, "write the sample files again")

// TestSampleUpToDate regenerates the sample and compares it with the
// shipped files; with -update it writes them.
func TestSampleUpToDate(t *testing.T) {
	g := generate()
	csvData, sportsData := g.csv(), g.sportsCSV()
	if *update {
		xlsx, err := g.xlsx()
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{sample.XLSXName: xlsx, sample.CSVName: csvData, sample.SportsName: sportsData} {
			if err := os.WriteFile(name, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote %s, %s and %s", sample.XLSXName, sample.CSVName, sample.SportsName)
		return
	}
	if !bytes.Equal(csvData, sample.CSV) || !bytes.Equal(sportsData, sample.SportsCSV) {
		t.Fatalf("the shipped CSV files differ from the generator's output: run go test ./internal/activities/hr/sample -update")
	}
	// The workbook's bytes carry zip timestamps: compare its cells.
	want, err := g.xlsx()
	if err != nil {
		t.Fatal(err)
	}
	if a, b := sheetsOf(t, want), sheetsOf(t, sample.XLSX); a != b {
		t.Fatalf("the shipped workbook differs from the generator's output: run go test ./internal/activities/hr/sample -update")
	}
}

func sheetsOf(t *testing.T, data []byte) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for _, s := range f.GetSheetList() {
		rows, err := f.GetRows(s, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %q\n", s, rows)
	}
	return b.String()
}

// TestSampleShape checks what the demo relies on: the count, several
// business units, homes with coordinates around the office, some commute
// declarations beyond the sports bonus limits (walking over 15 km, bike over
// 25 km by road) and about 60% of employees practising a sport.
func TestSampleShape(t *testing.T) {
	g := generate()
	if len(g.people) != sample.Employees {
		t.Fatalf("%d employees, want %d", len(g.people), sample.Employees)
	}
	bus := map[string]int{}
	implausible, sporty, noCoords := 0, 0, 0
	for _, p := range g.people {
		bus[p.bu]++
		if len(p.sports) > 0 {
			sporty++
		}
		if !p.hasCoords {
			noCoords++
			continue
		}
		road := roadKm(p.lat, p.lon)
		if (p.mode == hr.Walking && road > 15) || (p.mode == hr.Bike && road > 25) {
			implausible++
		}
	}
	if len(bus) < 4 || len(bus) > 6 {
		t.Errorf("%d business units, want 4 to 6", len(bus))
	}
	if implausible < 6 || implausible > 10 {
		t.Errorf("%d implausible commute declarations, want about 8", implausible)
	}
	if share := float64(sporty) / float64(len(g.people)); share < 0.5 || share > 0.7 {
		t.Errorf("%.0f%% practise a sport, want about 60%%", share*100)
	}
	if noCoords != 2 {
		t.Errorf("%d homes without coordinates, want 2", noCoords)
	}
}

// town is a place employees live in, with the centre of the area homes are
// spread over.
type town struct {
	name, postcode string
	lat, lon       float64
	spreadKm       float64
	weight         int
}

var towns = []town{
	{"Lattes", "34970", 43.5677, 3.9003, 0.8, 12},
	{"Lattes (Boirargues)", "34970", 43.5765, 3.9285, 0.5, 5},
	{"Lattes (Port Ariane)", "34970", 43.5795, 3.9020, 0.4, 5},
	{"Pérols", "34470", 43.5650, 3.9530, 0.8, 8},
	{"Montpellier (Port Marianne)", "34000", 43.6000, 3.8990, 0.6, 10},
	{"Montpellier (Près d'Arènes)", "34070", 43.5930, 3.8790, 0.5, 6},
	{"Montpellier (Antigone)", "34000", 43.6080, 3.8880, 0.4, 6},
	{"Montpellier (Écusson)", "34000", 43.6105, 3.8765, 0.4, 8},
	{"Montpellier (Croix d'Argent)", "34070", 43.5900, 3.8550, 0.6, 5},
	{"Montpellier (Beaux-Arts)", "34000", 43.6170, 3.8820, 0.4, 5},
	{"Montpellier (Boutonnet)", "34090", 43.6230, 3.8700, 0.4, 4},
	{"Montpellier (Hôpitaux-Facultés)", "34090", 43.6330, 3.8560, 0.6, 4},
	{"Montpellier (Celleneuve)", "34080", 43.6150, 3.8310, 0.5, 3},
	{"Montpellier (Millénaire)", "34000", 43.6110, 3.9110, 0.5, 4},
	{"Saint-Jean-de-Védas", "34430", 43.5760, 3.8290, 0.8, 6},
	{"Castelnau-le-Lez", "34170", 43.6330, 3.9010, 0.8, 6},
	{"Villeneuve-lès-Maguelone", "34750", 43.5330, 3.8610, 0.7, 4},
	{"Palavas-les-Flots", "34250", 43.5290, 3.9300, 0.5, 3},
	{"Mauguio", "34130", 43.6160, 4.0080, 0.7, 4},
	{"Juvignac", "34990", 43.6130, 3.8100, 0.7, 3},
	{"Le Crès", "34920", 43.6480, 3.9390, 0.6, 3},
	{"Jacou", "34830", 43.6600, 3.9120, 0.5, 2},
	{"Clapiers", "34830", 43.6570, 3.8880, 0.5, 2},
	{"Grabels", "34790", 43.6480, 3.7990, 0.6, 2},
	{"Fabrègues", "34690", 43.5510, 3.7760, 0.6, 2},
	{"Pignan", "34570", 43.5840, 3.7640, 0.6, 2},
	{"Saint-Clément-de-Rivière", "34980", 43.6830, 3.8430, 0.6, 2},
	{"Baillargues", "34670", 43.6610, 4.0120, 0.5, 2},
	{"Frontignan", "34110", 43.4480, 3.7560, 0.8, 2},
	{"Lunel", "34400", 43.6750, 4.1360, 0.8, 2},
	{"Sète", "34200", 43.4030, 3.6970, 1.0, 2},
	// Far away: only the deliberately implausible declarations live here.
	{"Nîmes", "30000", 43.8370, 4.3600, 1.5, 0},
	{"Béziers", "34500", 43.3440, 3.2160, 1.2, 0},
	{"Alès", "30100", 44.1250, 4.0810, 1.0, 0},
	{"Clermont-l'Hérault", "34800", 43.6270, 3.4320, 0.6, 0},
	{"Ganges", "34190", 43.9340, 3.7080, 0.5, 0},
	{"Lodève", "34700", 43.7310, 3.3190, 0.5, 0},
}

var streets = []string{
	"rue de la République", "avenue de Montpellier", "rue des Écoles", "allée des Pins", "impasse des Oliviers",
	"rue du Moulin", "chemin des Vignes", "avenue de la Mer", "rue Jean Jaurès", "place de la Mairie",
	"rue des Cigales", "avenue du Général de Gaulle", "rue Victor Hugo", "allée des Tamaris", "rue de la Garrigue",
	"chemin du Mas", "rue des Lauriers", "avenue des Platanes", "rue Frédéric Mistral", "impasse des Mimosas",
	"rue de l'Étang", "boulevard de la Liberté", "rue Paul Valéry", "allée des Micocouliers", "rue des Amandiers",
	"avenue de Palavas", "rue du Lez", "rue des Salins", "chemin de la Lironde", "rue Georges Brassens",
}

var (
	femaleNames = []string{"Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Emma", "Jade", "Louise", "Alice",
		"Juliette", "Clara", "Marie", "Anaïs", "Pauline", "Laura", "Mathilde", "Élodie", "Céline", "Nathalie",
		"Sophie", "Isabelle", "Sandrine", "Aurélie", "Émilie", "Julie", "Charlotte", "Lucie", "Margaux", "Océane",
		"Hélène", "Agnès", "Claire", "Valérie", "Amandine", "Noémie", "Zoé", "Maëlle", "Yasmine", "Nadia"}
	maleNames = []string{"Lucas", "Hugo", "Thomas", "Nicolas", "Julien", "Maxime", "Antoine", "Alexandre", "Romain", "Kévin",
		"Mathieu", "Pierre", "Guillaume", "Sébastien", "Jérôme", "Olivier", "François", "Laurent", "Christophe", "David",
		"Arnaud", "Benoît", "Cédric", "Damien", "Florian", "Quentin", "Théo", "Louis", "Gabriel", "Raphaël",
		"Mehdi", "Karim", "Yann", "Loïc", "Baptiste", "Adrien", "Jean-Marc", "Jean-Luc", "Fabien", "Étienne"}
	lastNames = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
		"Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
		"Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez",
		"Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas",
		"Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin",
		"Masson", "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier",
		"Roger", "Roche", "Roy", "Noël", "Meyer", "Lucas", "Meunier", "Jean", "Pérez", "Marchand",
		"Dufour", "Blanchard", "Marie", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin",
		"Fernandez", "Pierre", "Renard", "Arnaud", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc", "Vidal",
		"Bourgeois", "Renaud", "Lemoine", "Picard", "Gaillard", "Philippe", "Leclercq", "Lacroix", "Fabre", "Dupuis",
		"Olivier", "Rodriguez", "Da Silva", "Hubert", "Louis", "Charles", "Guillot", "Rivière", "Le Gall", "Guillaume",
		"Adam", "Rey", "Moulin", "Gonzalez", "Berger", "Lecomte", "Menard", "Fleury", "Deschamps", "Carpentier",
		"Julien", "Benoît", "Paris", "Maillard", "Marchal", "Aubry", "Vasseur", "Le Roux", "Renault", "Jacquet",
		"Collet", "Prévost", "Poirier", "Charpentier", "Royer", "Huet", "Baron", "Dupuy", "Pons", "Paul",
		"Laine", "Carré", "Breton", "Rémy", "Schneider", "Perrot", "Guyot", "Barre", "Marty", "Cousin"}
)

// unit is a business unit: its size and its CDI salary range.
type unit struct {
	name     string
	size     int
	min, max float64
}

var units = []unit{
	{"Ventes", 30, 32000, 70000},
	{"Marketing", 20, 34000, 65000},
	{"R&D", 45, 40000, 85000},
	{"Finance", 18, 36000, 75000},
	{"RH", 12, 33000, 62000},
	{"Support", 35, 27000, 45000},
}

// The sports as HR writes them in the sports sheet, with their weights.
var sportsWritten = []struct {
	name   string
	weight int
}{
	{"Course à pied", 14}, {"Running", 4}, {"Vélo", 10}, {"Natation", 8}, {"Randonnée", 7}, {"Tennis", 5},
	{"Football", 5}, {"Rugby", 4}, {"Yoga", 6}, {"Escalade", 4}, {"Padel", 4}, {"Badminton", 3},
	{"Basket", 2}, {"Handball", 3}, {"Voile", 2}, {"Kitesurf", 2}, {"Musculation", 4}, {"Pétanque", 2},
	{"Triathlon", 2}, {"Tennis de table", 2}, {"Danse", 3}, {"Boxe", 2}, {"Judo", 1}, {"Équitation", 2},
	{"Aviron", 1}, {"Squash", 1},
}

// person is one generated employee.
type person struct {
	id            int
	last, first   string
	birth, hire   time.Time
	bu, contract  string
	salary, leave float64
	address       string
	lat, lon      float64
	hasCoords     bool
	mode          hr.CommuteMode
	sports        []string
}

type generator struct {
	people []person
}

// asOf is the date the sample describes: no hire after it.
var asOf = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// implausible lists the deliberately implausible declarations: an active
// commute from a home far beyond the bonus limits.
var implausible = []struct {
	town string
	mode hr.CommuteMode
}{
	{"Nîmes", hr.Walking},
	{"Ganges", hr.Walking},
	{"Clermont-l'Hérault", hr.Walking},
	{"Sète", hr.Walking},
	{"Lunel", hr.Walking},
	{"Béziers", hr.Bike},
	{"Alès", hr.Bike},
	{"Lodève", hr.Bike},
}

// generate builds the sample, always the same.
func generate() *generator {
	rng := rand.New(rand.NewPCG(20260415, 34970))
	g := &generator{}
	usedNames := map[string]bool{}
	id := 1001
	for _, u := range units {
		for i := 0; i < u.size; i++ {
			var p person
			p.id = id
			id++
			p.bu = u.name
			for {
				if rng.IntN(2) == 0 {
					p.first = femaleNames[rng.IntN(len(femaleNames))]
				} else {
					p.first = maleNames[rng.IntN(len(maleNames))]
				}
				p.last = lastNames[rng.IntN(len(lastNames))]
				if !usedNames[p.first+" "+p.last] {
					usedNames[p.first+" "+p.last] = true
					break
				}
			}
			var ageMin, ageMax int
			switch r := rng.IntN(100); {
			case r < 80:
				p.contract, ageMin, ageMax = "CDI", 24, 62
			case r < 88:
				p.contract, ageMin, ageMax = "CDD", 22, 55
			case r < 95:
				p.contract, ageMin, ageMax = "Alternance", 19, 25
			default:
				p.contract, ageMin, ageMax = "Stage", 20, 24
			}
			ageYears := ageMin + rng.IntN(ageMax-ageMin+1)
			p.birth = asOf.AddDate(-ageYears, -rng.IntN(12), -rng.IntN(28))
			// Hired after 21 (or 18 for work-study and interns), since 2004.
			earliest := p.birth.AddDate(21, 0, 0)
			switch p.contract {
			case "Alternance", "Stage":
				earliest = asOf.AddDate(-2, 0, 0)
			case "CDD":
				earliest = asOf.AddDate(-1, -6, 0)
			}
			if first := time.Date(2004, 1, 1, 0, 0, 0, 0, time.UTC); earliest.Before(first) {
				earliest = first
			}
			if youngest := p.birth.AddDate(18, 0, 0); earliest.Before(youngest) {
				earliest = youngest
			}
			days := int(asOf.Sub(earliest).Hours() / 24)
			p.hire = earliest.AddDate(0, 0, rng.IntN(max(days, 1)))
			// Contracts start on working days.
			for p.hire.Weekday() == time.Saturday || p.hire.Weekday() == time.Sunday {
				p.hire = p.hire.AddDate(0, 0, 1)
			}

			switch p.contract {
			case "Stage":
				p.salary = 7200 + float64(rng.IntN(13))*100
				p.leave = 0
			case "Alternance":
				p.salary = 12000 + float64(rng.IntN(81))*100
				p.leave = 25
			default:
				// Seniority and age move the salary up the unit's range.
				x := (float64(ageYears-22)/40 + rng.Float64()) / 2
				p.salary = math.Round((u.min+x*(u.max-u.min))/100) * 100
				if p.contract == "CDD" {
					p.salary = math.Round(p.salary*0.9/100) * 100
				}
				p.leave = 25
			}
			g.people = append(g.people, p)
		}
	}

	// Homes, modes and sports.
	far := map[int]int{} // person index → implausible entry
	for k := range implausible {
		far[7+k*19] = k // spread over the units
	}
	for i := range g.people {
		p := &g.people[i]
		var tw town
		if k, ok := far[i]; ok {
			tw = townNamed(implausible[k].town)
			p.mode = implausible[k].mode
		} else {
			tw = pickTown(rng)
		}
		p.lat, p.lon = jitter(rng, tw)
		p.hasCoords = true
		city := tw.name
		if j := strings.Index(city, " ("); j > 0 {
			city = city[:j]
		}
		p.address = fmt.Sprintf("%d %s, %s %s", 1+rng.IntN(120), streets[rng.IntN(len(streets))], tw.postcode, city)
		if p.mode == "" {
			p.mode = pickMode(rng, roadKm(p.lat, p.lon))
		}
		sportProb := 0.52
		if p.mode.Active() {
			sportProb = 0.8
		}
		if rng.Float64() < sportProb {
			p.sports = append(p.sports, pickSport(rng))
			if rng.IntN(4) == 0 {
				if s := pickSport(rng); s != p.sports[0] {
					p.sports = append(p.sports, s)
				}
			}
		}
	}
	// Two recent hires whose homes the register cannot place yet: no
	// coordinates, an address no offline check can locate. The commute
	// check flags them for HR.
	for _, i := range []int{40, 120} {
		p := &g.people[i]
		p.hasCoords = false
		p.mode = hr.Bike
	}
	g.people[40].address = "Mas de la Pinède, chemin des Canaux, 34970 Lattes"
	g.people[120].address = "Domaine de Saint-Sauveur, 34130 Mauguio"
	return g
}

func townNamed(name string) town {
	for _, t := range towns {
		if t.name == name {
			return t
		}
	}
	panic("no town " + name)
}

func pickTown(rng *rand.Rand) town {
	total := 0
	for _, t := range towns {
		total += t.weight
	}
	n := rng.IntN(total)
	for _, t := range towns {
		if n < t.weight {
			return t
		}
		n -= t.weight
	}
	return towns[0]
}

// jitter places a home around a town's centre.
func jitter(rng *rand.Rand, t town) (lat, lon float64) {
	r := t.spreadKm * math.Sqrt(rng.Float64())
	a := rng.Float64() * 2 * math.Pi
	lat = t.lat + r*math.Cos(a)/111.2
	lon = t.lon + r*math.Sin(a)/(111.2*math.Cos(t.lat*math.Pi/180))
	return math.Round(lat*1e5) / 1e5, math.Round(lon*1e5) / 1e5
}

// roadKm estimates the road distance from a home to the office: the
// great-circle distance times 1.3.
func roadKm(lat, lon float64) float64 {
	const r = 6371.0088
	φ1, φ2 := lat*math.Pi/180, sample.OfficeLatitude*math.Pi/180
	dφ := φ2 - φ1
	dλ := (sample.OfficeLongitude - lon) * math.Pi / 180
	h := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
	return 2 * r * math.Asin(math.Sqrt(h)) * 1.3
}

// pickMode draws a plausible commute mode for a road distance.
func pickMode(rng *rand.Rand, km float64) hr.CommuteMode {
	type w struct {
		m hr.CommuteMode
		n int
	}
	var ws []w
	switch {
	case km < 4:
		ws = []w{{hr.Walking, 45}, {hr.Bike, 30}, {hr.PublicTransport, 10}, {hr.Car, 15}}
	case km < 12:
		ws = []w{{hr.Walking, 8}, {hr.Bike, 35}, {hr.PublicTransport, 27}, {hr.Car, 30}}
	case km < 25:
		ws = []w{{hr.Bike, 15}, {hr.PublicTransport, 25}, {hr.Car, 60}}
	default:
		ws = []w{{hr.PublicTransport, 30}, {hr.Car, 70}}
	}
	n := rng.IntN(100)
	for _, x := range ws {
		if n < x.n {
			return x.m
		}
		n -= x.n
	}
	return hr.Car
}

func pickSport(rng *rand.Rand) string {
	total := 0
	for _, s := range sportsWritten {
		total += s.weight
	}
	n := rng.IntN(total)
	for _, s := range sportsWritten {
		if n < s.weight {
			return s.name
		}
		n -= s.weight
	}
	return sportsWritten[0].name
}

// The French headers, as the company's register has them.
var (
	registerHeader = []string{"ID salarié", "Nom", "Prénom", "Date de naissance", "BU", "Date d'embauche", "Salaire brut",
		"Type de contrat", "Nombre de jours de CP", "Adresse du domicile", "Latitude", "Longitude", "Moyen de déplacement"}
	sportsHeader = []string{"ID salarié", "Pratique d'un sport"}
)

// frenchThousands writes n as French Excel displays "# ##0": groups of
// three digits separated by narrow no-break spaces.
func frenchThousands(n float64) string {
	s := strconv.FormatInt(int64(math.Round(n)), 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202f')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func frenchDecimal(f float64) string {
	return strings.Replace(strconv.FormatFloat(f, 'f', -1, 64), ".", ",", 1)
}

// writeCSV writes rows as Excel's "CSV UTF-8" does in French: a BOM, ';'
// separators, CRLF line ends.
func writeCSV(rows [][]string) []byte {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	w.UseCRLF = true
	_ = w.WriteAll(rows)
	return buf.Bytes()
}

func (g *generator) csv() []byte {
	rows := [][]string{registerHeader}
	for _, p := range g.people {
		lat, lon := "", ""
		if p.hasCoords {
			lat, lon = frenchDecimal(p.lat), frenchDecimal(p.lon)
		}
		rows = append(rows, []string{strconv.Itoa(p.id), p.last, p.first, p.birth.Format("02/01/2006"), p.bu,
			p.hire.Format("02/01/2006"), frenchThousands(p.salary), p.contract, strconv.FormatFloat(p.leave, 'f', -1, 64),
			p.address, lat, lon, p.mode.FrenchLabel()})
	}
	return writeCSV(rows)
}

func (g *generator) sportsCSV() []byte {
	rows := [][]string{sportsHeader}
	for _, p := range g.people {
		for _, s := range p.sports {
			rows = append(rows, []string{strconv.Itoa(p.id), s})
		}
	}
	return writeCSV(rows)
}

// xlsx writes the register as an HR workbook: sheet "Salariés" with number
// cells (ids, salaries, days, coordinates) and date cells shown dd/mm/yyyy,
// and sheet "Sports".
func (g *generator) xlsx() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	const main, sports = "Salariés", "Sports"
	if err := f.SetSheetName("Sheet1", main); err != nil {
		return nil, err
	}
	if _, err := f.NewSheet(sports); err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return nil, err
	}
	dateFmt, salaryFmt, coordFmt := "dd/mm/yyyy", `#,##0 "€"`, "0.00000"
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return nil, err
	}
	money, err := f.NewStyle(&excelize.Style{CustomNumFmt: &salaryFmt})
	if err != nil {
		return nil, err
	}
	coord, err := f.NewStyle(&excelize.Style{CustomNumFmt: &coordFmt})
	if err != nil {
		return nil, err
	}
	set := func(sheet string, col, row int, v any, style int) error {
		cell, err := excelize.CoordinatesToCellName(col, row)
		if err != nil {
			return err
		}
		if err := f.SetCellValue(sheet, cell, v); err != nil {
			return err
		}
		if style != 0 {
			return f.SetCellStyle(sheet, cell, cell, style)
		}
		return nil
	}
	for i, h := range registerHeader {
		if err := set(main, i+1, 1, h, bold); err != nil {
			return nil, err
		}
	}
	for i, p := range g.people {
		row := i + 2
		cells := []struct {
			v     any
			style int
		}{
			{p.id, 0}, {p.last, 0}, {p.first, 0}, {p.birth, date}, {p.bu, 0}, {p.hire, date}, {p.salary, money},
			{p.contract, 0}, {p.leave, 0}, {p.address, 0}, {nil, coord}, {nil, coord}, {p.mode.FrenchLabel(), 0},
		}
		if p.hasCoords {
			cells[10].v, cells[11].v = p.lat, p.lon
		}
		for c, x := range cells {
			if x.v == nil {
				continue
			}
			if err := set(main, c+1, row, x.v, x.style); err != nil {
				return nil, err
			}
		}
	}
	for col, width := range map[string]float64{"A": 11, "B": 14, "C": 12, "D": 17, "E": 10, "F": 15, "G": 13, "H": 15, "I": 21, "J": 52, "K": 10, "L": 10, "M": 30} {
		if err := f.SetColWidth(main, col, col, width); err != nil {
			return nil, err
		}
	}
	for i, h := range sportsHeader {
		if err := set(sports, i+1, 1, h, bold); err != nil {
			return nil, err
		}
	}
	row := 2
	for _, p := range g.people {
		for _, s := range p.sports {
			if err := set(sports, 1, row, p.id, 0); err != nil {
				return nil, err
			}
			if err := set(sports, 2, row, s, 0); err != nil {
				return nil, err
			}
			row++
		}
	}
	if err := f.SetColWidth(sports, "A", "B", 20); err != nil {
		return nil, err
	}
	if err := f.SetPanes(main, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
