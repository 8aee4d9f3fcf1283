// Package generate makes realistic, deterministic sport activities for the
// employees of the HR register who practise a sport: how often each
// practises, at what hours, and distances and durations plausible for each
// sport. The same seed, year and register always give the same activities.
package generate

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/store"
)

// Employee is what the generator needs of an employee.
type Employee struct {
	ID     string
	Sports []string // canonical names (hr.KnownSports)
}

// Config configures the generator.
type Config struct {
	// Year is the calendar year to fill, in Location.
	Year int
	// Seed makes the activities reproducible; the same seed gives the same
	// year.
	Seed uint64
	// Location is the company's time zone; nil means Europe/Paris.
	Location *time.Location
}

// profile describes how a sport is practised.
type profile struct {
	stravaType string
	perWeek    float64 // sessions a week for a typical practitioner
	distanceKm float64 // typical distance, 0 for sports without one
	speedKmh   float64 // typical moving speed for distance sports
	minutes    float64 // typical duration for sports without distance
	comments   []string
}

var profiles = map[string]profile{
	"Running":         {"Run", 2.2, 8.5, 10.5, 0, []string{"Footing du matin", "Sortie longue", "Fractionné", "Course à pied à la pause déj"}},
	"Walking":         {"Walk", 3, 5, 5, 0, []string{"Marche rapide", "Balade", "Marche du midi"}},
	"Cycling":         {"Ride", 1.6, 32, 24, 0, []string{"Sortie vélo", "Vélotaf", "Boucle de l'Hérault", "Sortie vélo du dimanche"}},
	"Swimming":        {"Swim", 1.5, 1.6, 2.4, 0, []string{"Piscine", "Nage en eau libre", "Séance de crawl"}},
	"Hiking":          {"Hike", 0.6, 12, 4, 0, []string{"Randonnée au Pic Saint-Loup", "Rando dans les Cévennes", "Randonnée"}},
	"Triathlon":       {"Run", 3, 9, 11, 0, []string{"Enchaînement vélo-course", "Préparation triathlon"}},
	"Rowing":          {"Rowing", 1.2, 8, 9, 0, []string{"Aviron sur le Lez", "Séance d'aviron"}},
	"Canoeing":        {"Canoeing", 0.7, 10, 6, 0, []string{"Kayak sur l'étang", "Canoë"}},
	"Stand-up paddle": {"StandUpPaddling", 0.7, 6, 5, 0, []string{"Paddle à Palavas"}},
	"Skiing":          {"AlpineSki", 0.2, 0, 0, 240, []string{"Journée au ski"}},
	"Skating":         {"InlineSkate", 0.8, 14, 14, 0, []string{"Roller"}},
	"Tennis":          {"Tennis", 1.3, 0, 0, 75, []string{"Match de tennis", "Entraînement tennis"}},
	"Badminton":       {"Badminton", 1.2, 0, 0, 70, []string{"Badminton entre collègues"}},
	"Padel":           {"Padel", 1.2, 0, 0, 80, []string{"Padel"}},
	"Squash":          {"Squash", 1, 0, 0, 50, []string{"Squash"}},
	"Table tennis":    {"TableTennis", 1, 0, 0, 60, []string{"Ping-pong"}},
	"Football":        {"Soccer", 1.3, 0, 0, 90, []string{"Foot à cinq", "Match de foot"}},
	"Rugby":           {"Rugby", 1.5, 0, 0, 90, []string{"Entraînement rugby"}},
	"Basketball":      {"Basketball", 1.3, 0, 0, 80, []string{"Basket"}},
	"Handball":        {"Handball", 1.3, 0, 0, 80, []string{"Hand"}},
	"Volleyball":      {"Volleyball", 1.2, 0, 0, 90, []string{"Volley", "Beach-volley à Carnon"}},
	"Climbing":        {"RockClimbing", 1.4, 0, 0, 120, []string{"Salle d'escalade", "Grimpe au Thaurac"}},
	"Yoga":            {"Yoga", 2, 0, 0, 60, []string{"Yoga", "Yoga du soir"}},
	"Pilates":         {"Pilates", 1.5, 0, 0, 55, []string{"Pilates"}},
	"Boxing":          {"Boxing", 1.5, 0, 0, 75, []string{"Boxe"}},
	"Judo":            {"Judo", 1.5, 0, 0, 90, []string{"Judo"}},
	"Karate":          {"Karate", 1.5, 0, 0, 90, []string{"Karaté"}},
	"Fencing":         {"Fencing", 1.2, 0, 0, 90, []string{"Escrime"}},
	"Horse riding":    {"HorsebackRiding", 1, 0, 0, 90, []string{"Équitation"}},
	"Golf":            {"Golf", 0.6, 0, 0, 240, []string{"Parcours de golf"}},
	"Sailing":         {"Sail", 0.4, 0, 0, 180, []string{"Voile à La Grande-Motte"}},
	"Surfing":         {"Surfing", 0.4, 0, 0, 120, []string{"Surf"}},
	"Kitesurfing":     {"Kitesurf", 0.5, 0, 0, 120, []string{"Kite à Villeneuve-lès-Maguelone"}},
	"Dance":           {"Dance", 1.5, 0, 0, 75, []string{"Cours de danse"}},
	"Fitness":         {"Workout", 2, 0, 0, 60, []string{"Fitness", "Cross-training"}},
	"Weight training": {"WeightTraining", 2.2, 0, 0, 60, []string{"Muscu"}},
	"Pétanque":        {"Workout", 1, 0, 0, 120, []string{"Pétanque"}},
}

// other is the profile of a sport the generator does not know.
var other = profile{"Workout", 1.2, 0, 0, 60, []string{"Séance de sport"}}

// IDBase returns the first activity id of year: generated ids are
// year×10⁹ + employee index×10⁴ + sequence, so years never collide.
func IDBase(year int) int64 { return int64(year) * 1_000_000_000 }

// Year returns the activities of every employee who practises a sport for
// cfg.Year, sorted by start time.
func Year(employees []Employee, cfg Config) ([]activities.Activity, error) {
	loc := cfg.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation("Europe/Paris"); err != nil {
			return nil, fmt.Errorf("load time zone Europe/Paris: %w", err)
		}
	}
	if cfg.Year < 1970 || cfg.Year > 9000 {
		return nil, fmt.Errorf("year %d out of range", cfg.Year)
	}
	if len(employees) >= 100_000 {
		return nil, fmt.Errorf("%d employees: the generator's ids hold at most 99,999", len(employees))
	}
	var days []time.Time
	for d := time.Date(cfg.Year, 1, 1, 0, 0, 0, 0, loc); d.Year() == cfg.Year; d = d.AddDate(0, 0, 1) {
		days = append(days, d)
	}
	var out []activities.Activity
	for i, e := range employees {
		if len(e.Sports) == 0 {
			continue
		}
		out = append(out, employeeYear(i, e, cfg, days)...)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].StartTime.Equal(out[j].StartTime) {
			return out[i].StartTime.Before(out[j].StartTime)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// employeeYear draws one employee's year, from a random source seeded by
// the seed, the year and the employee id alone: adding an employee to the
// register changes nobody else's activities.
func employeeYear(index int, e Employee, cfg Config, days []time.Time) []activities.Activity {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d/%s", cfg.Seed, cfg.Year, e.ID)
	rng := rand.New(rand.NewPCG(h.Sum64(), cfg.Seed^0x9e3779b97f4a7c15))
	// How keen this employee is: most practise less than a sport's typical
	// pace, a few a lot more, so wellness days are earned by some only.
	keen := math.Exp(rng.NormFloat64()*0.7 - 0.45)
	var acts []activities.Activity
	seq := 0
	for _, sport := range e.Sports {
		p, ok := profiles[sport]
		if !ok {
			p = other
		}
		weekly := p.perWeek * keen / float64(len(e.Sports))
		for _, day := range days {
			chance := weekly / 7 * seasonal(day, p)
			if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
				chance *= 1.6
			} else {
				chance *= 0.76
			}
			if rng.Float64() >= chance || seq >= 9999 {
				continue
			}
			acts = append(acts, activity(rng, index, seq, e.ID, day, p, cfg.Year))
			seq++
		}
	}
	return acts
}

// seasonal makes outdoor sports rarer in winter and summer holidays busier.
func seasonal(day time.Time, p profile) float64 {
	if p.distanceKm == 0 {
		return 1
	}
	// Peak in June, trough in January.
	return 1 + 0.35*math.Sin(2*math.Pi*(float64(day.YearDay())-80)/365)
}

func activity(rng *rand.Rand, index, seq int, employee string, day time.Time, p profile, year int) activities.Activity {
	weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
	var hour float64
	switch r := rng.Float64(); {
	case weekend:
		hour = 8 + rng.Float64()*9 // 8:00–17:00
	case r < 0.35:
		hour = 6.5 + rng.Float64()*1.5 // before work
	case r < 0.55:
		hour = 12 + rng.Float64()*1 // lunch break
	default:
		hour = 17.5 + rng.Float64()*3 // after work
	}
	startAt := day.Add(time.Duration(hour * float64(time.Hour))).Truncate(time.Minute)
	var distance float64
	var seconds float64
	if p.distanceKm > 0 {
		// Log-normal around the typical distance; longer at weekends.
		km := p.distanceKm * math.Exp(rng.NormFloat64()*0.35)
		if weekend {
			km *= 1.3
		}
		speed := p.speedKmh * math.Exp(rng.NormFloat64()*0.08)
		distance = math.Round(km*1000*10) / 10
		seconds = km / speed * 3600
	} else {
		seconds = p.minutes * 60 * math.Exp(rng.NormFloat64()*0.2)
	}
	return activities.Activity{
		ID:         IDBase(year) + int64(index)*10_000 + int64(seq),
		EmployeeID: employee,
		StartTime:  startAt,
		SportType:  p.stravaType,
		DistanceM:  distance,
		ElapsedS:   int(math.Round(seconds)),
		Comment:    p.comments[rng.IntN(len(p.comments))],
		Source:     activities.SourceGenerator,
		UpdatedAt:  startAt.Add(time.Duration(seconds)*time.Second + 10*time.Minute),
	}
}

// Live returns, for the activity that ends at now, a plausible activity of
// a random practising employee, with an id from the live range (above every
// generated year's).
func Live(employees []Employee, now time.Time, rng *rand.Rand) (activities.Activity, bool) {
	var practising []Employee
	for _, e := range employees {
		if len(e.Sports) > 0 {
			practising = append(practising, e)
		}
	}
	if len(practising) == 0 {
		return activities.Activity{}, false
	}
	e := practising[rng.IntN(len(practising))]
	p, ok := profiles[e.Sports[rng.IntN(len(e.Sports))]]
	if !ok {
		p = other
	}
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	a := activity(rng, 0, 0, e.ID, day, p, now.Year())
	// The activity has just ended.
	a.StartTime = now.Add(-time.Duration(a.ElapsedS) * time.Second).Truncate(time.Second)
	a.UpdatedAt = now
	a.ID = LiveIDBase + now.UnixMicro()
	return a, true
}

// LiveIDBase starts the ids of live activities, above every generated year.
const LiveIDBase int64 = 1 << 60

// Backfill writes acts to the operational table, a transaction per chunk,
// calling progress after each with the number written so far.
func Backfill(ctx context.Context, s *store.Store, acts []activities.Activity, progress func(done int)) error {
	const chunk = 5000
	for start := 0; start < len(acts); start += chunk {
		end := min(start+chunk, len(acts))
		err := s.InTx(ctx, func(tx *sql.Tx) error { return activities.Upsert(ctx, tx, acts[start:end]...) })
		if err != nil {
			return err
		}
		if progress != nil {
			progress(end)
		}
	}
	return nil
}
