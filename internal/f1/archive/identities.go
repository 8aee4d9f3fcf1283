package archive

import "time"

// Identities answers, from the archive, the questions a live source asks
// to give its data the archive's identities: the round of a Grand Prix
// weekend and the ids of a car's driver and team. Its methods have the
// shape of the OpenF1 source's Resolver, so that an Identities can be one.
type Identities struct{ a *Archive }

// Identities returns the archive's answers to a live source.
func (a *Archive) Identities() Identities { return Identities{a} }

// Round returns the round of season whose weekend includes date (see
// RoundOn), or else whose Grand Prix is named meetingName (see
// RoundByGrandPrix), with the Grand Prix's name; ok is false when the
// archive knows neither (another season, pre-season testing).
func (id Identities) Round(season int, date time.Time, meetingName string) (round int, grandPrix string, ok bool) {
	if id.a == nil {
		return 0, "", false
	}
	if !date.IsZero() {
		if r, ok := id.a.RoundOn(date); ok && r.Season == season {
			return r.Round, r.GrandPrix, true
		}
	}
	if meetingName != "" {
		if r, ok := id.a.RoundByGrandPrix(season, meetingName); ok {
			return r.Round, r.GrandPrix, true
		}
	}
	return 0, "", false
}

// Entrant returns the ids of the driver and team of car carNumber in a
// round of season: the entry that raced it that round, or else the
// season's entry of the number (see Archive.Entrant).
func (id Identities) Entrant(season, round, carNumber int) (driverID, teamID string, ok bool) {
	if id.a == nil {
		return "", "", false
	}
	if e, ok := id.a.EntrantAt(season, round, carNumber); ok {
		return e.DriverID, e.TeamID, true
	}
	return id.a.Entrant(season, carNumber)
}

// Car is who drove a car, as a page shows them.
type Car struct {
	DriverID, DriverName, DriverCode string
	TeamName, TeamColour             string
}

// Car returns who drove car carNumber in a round of season (see Entrant):
// how a live page names a car the feed knows by number only. ok is false
// when the archive does not know the car.
func (id Identities) Car(season, round, carNumber int) (Car, bool) {
	driverID, teamID, ok := id.Entrant(season, round, carNumber)
	if !ok {
		return Car{}, false
	}
	d, _ := id.a.Driver(driverID)
	t, _ := id.a.Team(teamID)
	return Car{DriverID: driverID, DriverName: d.Name, DriverCode: d.Code, TeamName: t.Name, TeamColour: t.Colour}, true
}
