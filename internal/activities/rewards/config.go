package rewards

import (
	"fmt"
	"strconv"
	"time"

	"github.com/podiumhq/podium/internal/config"
)

// The keys of the rewards policy's settings.
const (
	KeyTimeZone              = "activities.timezone"
	KeyBonusRate             = "rewards.bonus_rate"
	KeyWalkMaxKm             = "rewards.walk_max_km"
	KeyBikeMaxKm             = "rewards.bike_max_km"
	KeyWellnessMinActivities = "rewards.wellness_min_activities"
	KeyWellnessDays          = "rewards.wellness_days"
	KeyWellnessYear          = "rewards.wellness_year"
	// KeyIndoor says what the data-quality rules do with activities on a
	// training machine (trainer, virtual sports): count, flag or hold.
	KeyIndoor = "rewards.indoor_activities"
)

// The values of KeyWellnessYear.
const (
	// CalendarYear counts the activities of the calendar year.
	CalendarYear = "calendar"
	// RollingYear counts, for the current year, the activities of the last
	// twelve months (for past years it is the calendar year: the twelve
	// months ending on 31 December).
	RollingYear = "rolling"
)

// Settings returns the settings of the rewards policy, to register with
// config.Register. Their defaults are the company's policy (DefaultPolicy).
func Settings() []config.Setting {
	return []config.Setting{
		{Key: KeyTimeZone, Default: "Europe/Paris", Usage: "the company's time zone (IANA name): years and months run in it",
			Check: func(v string) error {
				if _, err := time.LoadLocation(v); err != nil {
					return fmt.Errorf("unknown time zone: use an IANA name such as Europe/Paris")
				}
				return nil
			}},
		{Key: KeyBonusRate, Default: "0.05", Usage: "sports bonus as a share of the gross annual salary (0.05 is 5%)",
			Check: share},
		{Key: KeyWalkMaxKm, Default: "15", Usage: "longest home-to-office distance in km that walking or running to work earns the bonus for",
			Check: kilometres},
		{Key: KeyBikeMaxKm, Default: "25", Usage: "longest home-to-office distance in km that biking (scooter, other) to work earns the bonus for",
			Check: kilometres},
		{Key: KeyWellnessMinActivities, Default: "15", Kind: config.KindInt,
			Usage: "activities in a year that earn the wellness days"},
		{Key: KeyWellnessDays, Default: "5", Kind: config.KindInt, Usage: "wellness days earned"},
		{Key: KeyWellnessYear, Default: CalendarYear, Allowed: []string{CalendarYear, RollingYear},
			Usage: "the year the wellness activities are counted in: calendar, or rolling (the last twelve months)"},
		{Key: KeyIndoor, Default: "flag", Allowed: []string{"count", "flag", "hold"},
			Usage: "activities on a training machine (trainer, virtual rides and runs): count them, flag them (counted, shown in review), or hold them for review"},
	}
}

func share(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		return fmt.Errorf("use a number between 0 and 1, such as 0.05 for 5%%")
	}
	return nil
}

func kilometres(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return fmt.Errorf("use a distance in km, such as 15 or 12.5")
	}
	return nil
}

// PolicyFromConfig returns the policy the configuration sets (the settings
// of Settings must be registered).
func PolicyFromConfig(cfg config.Config) (Policy, error) {
	loc, err := time.LoadLocation(cfg.Get(KeyTimeZone).String())
	if err != nil {
		return Policy{}, fmt.Errorf("%s: %w", KeyTimeZone, err)
	}
	float := func(key string) float64 {
		f, _ := strconv.ParseFloat(cfg.Get(key).String(), 64) // checked by the setting
		return f
	}
	p := Policy{
		BonusRate:             float(KeyBonusRate),
		WalkMaxKm:             float(KeyWalkMaxKm),
		BikeMaxKm:             float(KeyBikeMaxKm),
		WellnessMinActivities: int(cfg.Get(KeyWellnessMinActivities).Int()),
		WellnessDays:          int(cfg.Get(KeyWellnessDays).Int()),
		RollingYear:           cfg.Get(KeyWellnessYear).String() == RollingYear,
		Location:              loc,
	}
	return p, p.Validate()
}
