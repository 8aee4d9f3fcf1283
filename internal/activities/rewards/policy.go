// Package rewards turns the activity stream into the company's rewards: a
// sports bonus for employees who commute by sport, and wellness days for
// those who practise often.
//
// The processor "activities-rewards" reads the change events of
// sport_activities (package cdc) and maintains, in the same transaction as
// its positions, two tables that BI tools read with their ordinary
// PostgreSQL connector:
//
//   - activities_current (silver): the current row of every activity;
//   - activities_gold: per employee and year, the activity count, distance,
//     sports, commute mode and measured distance, bonus eligibility and
//     amount, wellness days and the declaration flag for HR.
//
// A gold row exists for each employee and year with at least one activity:
// an employee who records no activity in a year gets neither a row nor a
// bonus for it. The gold rows of an employee and year are recomputed when
// one of their activities changes; a change of the HR register or of the
// commute distances shows after the next activity of that employee, or
// after `podium rebuild activities-rewards`.
//
// The policy is configurable (Settings, PolicyFromConfig); its defaults are
// the company's: DefaultPolicy. Under a rolling-year policy the wellness
// days of the current year count the activities of the last twelve months,
// as of the last recompute of the gold row.
//
// Report summarises a year from these tables; the writers export it as a
// text table, CSV, JSON or an Excel workbook.
package rewards

import (
	"fmt"
	"time"
	_ "time/tzdata" // the policy's time zone must load on hosts without a zoneinfo database

	"github.com/podiumhq/podium/internal/activities/hr"
)

// Policy is the rewards policy. DefaultPolicy returns the company's.
type Policy struct {
	// BonusRate is the sports bonus as a share of the gross annual salary.
	BonusRate float64
	// WalkMaxKm is the longest home-to-office distance, in km, for which
	// walking or running to work earns the bonus.
	WalkMaxKm float64
	// BikeMaxKm is the same for bike, scooter or other muscle-powered means.
	BikeMaxKm float64
	// WellnessMinActivities is the number of activities in a year that
	// earns the wellness days.
	WellnessMinActivities int
	// WellnessDays is the number of wellness days earned.
	WellnessDays int
	// RollingYear counts the wellness activities of the current year over
	// the last twelve months (ending when the gold row is computed) rather
	// than since 1 January. Past years count their calendar year either way.
	RollingYear bool
	// Location is the company's time zone: an activity counts in the
	// calendar year of its start time there.
	Location *time.Location
}

// DefaultPolicy returns the company's policy: 5% of the gross annual salary
// for walking or running up to 15 km, or biking up to 25 km; 5 wellness days
// from 15 activities in the calendar year, in Europe/Paris time.
func DefaultPolicy() Policy {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(fmt.Sprintf("rewards: load Europe/Paris: %v", err)) // embedded by time/tzdata
	}
	return Policy{BonusRate: 0.05, WalkMaxKm: 15, BikeMaxKm: 25, WellnessMinActivities: 15, WellnessDays: 5, Location: loc}
}

// Validate reports a policy that cannot be applied.
func (p Policy) Validate() error {
	switch {
	case p.BonusRate < 0 || p.BonusRate > 1:
		return fmt.Errorf("rewards policy: bonus rate %g: want between 0 and 1", p.BonusRate)
	case p.WalkMaxKm < 0 || p.BikeMaxKm < 0:
		return fmt.Errorf("rewards policy: distance limits must not be negative")
	case p.WellnessMinActivities < 1 || p.WellnessDays < 0:
		return fmt.Errorf("rewards policy: wellness needs at least 1 activity and non-negative days")
	case p.Location == nil:
		return fmt.Errorf("rewards policy: no time zone")
	}
	return nil
}

// Commute is what the policy needs of an employee's commute.
type Commute struct {
	// Known is false when the employee is not in the HR register.
	Known bool
	Mode  hr.CommuteMode
	// GrossSalary is the gross annual salary in euros.
	GrossSalary float64
	// Km is the measured home-to-office distance; nil when unknown.
	Km *float64
	// NeedsReview and Reason come from the commute check.
	NeedsReview bool
	Reason      string
}

// Bonus is the policy's decision on an employee's commute.
type Bonus struct {
	Eligible bool
	Amount   Cents
	// Flag says why HR must check the declaration; empty when it is fine.
	Flag string
}

// Bonus decides the sports bonus of an employee. Only the active commute
// modes earn it, within their distance limit; an active declaration whose
// distance is unknown, doubtful or beyond the limit is flagged and not paid.
func (p Policy) Bonus(c Commute) Bonus {
	if !c.Known {
		return Bonus{Flag: "not in the HR register"}
	}
	var limit float64
	switch c.Mode {
	case hr.Walking:
		limit = p.WalkMaxKm
	case hr.Bike:
		limit = p.BikeMaxKm
	default:
		return Bonus{}
	}
	switch {
	case c.Km == nil:
		reason := c.Reason
		if reason == "" {
			reason = "not computed yet"
		}
		return Bonus{Flag: "commute distance unknown: " + reason}
	case c.NeedsReview:
		return Bonus{Flag: "commute distance to review: " + c.Reason}
	case *c.Km > limit:
		return Bonus{Flag: fmt.Sprintf("declared %s but the home is %.1f km from the office (limit %g km)",
			c.Mode.EnglishLabel(), *c.Km, limit)}
	}
	return Bonus{Eligible: true, Amount: CentsOf(c.GrossSalary * p.BonusRate)}
}

// Wellness returns the wellness days earned by n activities in a year.
func (p Policy) Wellness(n int) int {
	if n >= p.WellnessMinActivities {
		return p.WellnessDays
	}
	return 0
}
