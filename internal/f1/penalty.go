package f1

import (
	"fmt"
	"math"
)

// Validate checks the fields every penalty needs.
func (p Penalty) Validate() error {
	switch {
	case p.ID == "":
		return fmt.Errorf("penalty id is missing")
	case len(p.ID) > 200:
		return fmt.Errorf("penalty id is %d bytes long: 200 at most", len(p.ID))
	case p.Season < 1950 || p.Season > 2100:
		return fmt.Errorf("season %d out of range", p.Season)
	case p.Kind != PenaltyDriver && p.Kind != PenaltyConstructor:
		return fmt.Errorf("kind %q: must be %s or %s", p.Kind, PenaltyDriver, PenaltyConstructor)
	case p.Target == "":
		return fmt.Errorf("target is missing")
	case math.IsNaN(p.Points) || math.IsInf(p.Points, 0):
		return fmt.Errorf("points %v: not a number", p.Points)
	case p.FromRound < 1:
		return fmt.Errorf("from_round %d: must be 1 or more", p.FromRound)
	}
	return nil
}
