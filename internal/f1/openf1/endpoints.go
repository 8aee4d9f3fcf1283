package openf1

import "context"

// Endpoint names under /v1, which are also the MQTT topic names after "v1/".
const (
	EndpointMeetings      = "meetings"
	EndpointSessions      = "sessions"
	EndpointDrivers       = "drivers"
	EndpointSessionResult = "session_result"
	EndpointStartingGrid  = "starting_grid"
	EndpointPosition      = "position"
	EndpointIntervals     = "intervals"
	EndpointLaps          = "laps"
	EndpointPit           = "pit"
	EndpointRaceControl   = "race_control"
)

// Meetings returns the meetings matching filters, e.g. Eq("year", 2023).
func (c *Client) Meetings(ctx context.Context, filters ...Filter) ([]Meeting, error) {
	return list[Meeting](ctx, c, EndpointMeetings, filters)
}

// Sessions returns the sessions matching filters, e.g. SessionKey(Latest).
func (c *Client) Sessions(ctx context.Context, filters ...Filter) ([]Session, error) {
	return list[Session](ctx, c, EndpointSessions, filters)
}

// Drivers returns the drivers matching filters, one row per driver and
// session.
func (c *Client) Drivers(ctx context.Context, filters ...Filter) ([]Driver, error) {
	return list[Driver](ctx, c, EndpointDrivers, filters)
}

// SessionResults returns session standings matching filters.
func (c *Client) SessionResults(ctx context.Context, filters ...Filter) ([]SessionResult, error) {
	return list[SessionResult](ctx, c, EndpointSessionResult, filters)
}

// StartingGrid returns starting grid rows matching filters (keyed by the
// race's session_key).
func (c *Client) StartingGrid(ctx context.Context, filters ...Filter) ([]StartingGrid, error) {
	return list[StartingGrid](ctx, c, EndpointStartingGrid, filters)
}

// Positions returns running-order changes matching filters.
func (c *Client) Positions(ctx context.Context, filters ...Filter) ([]Position, error) {
	return list[Position](ctx, c, EndpointPosition, filters)
}

// Intervals returns gaps matching filters.
func (c *Client) Intervals(ctx context.Context, filters ...Filter) ([]Interval, error) {
	return list[Interval](ctx, c, EndpointIntervals, filters)
}

// Laps returns laps matching filters.
func (c *Client) Laps(ctx context.Context, filters ...Filter) ([]Lap, error) {
	return list[Lap](ctx, c, EndpointLaps, filters)
}

// Pits returns pit-lane passages matching filters.
func (c *Client) Pits(ctx context.Context, filters ...Filter) ([]Pit, error) {
	return list[Pit](ctx, c, EndpointPit, filters)
}

// RaceControl returns race-control messages matching filters.
func (c *Client) RaceControl(ctx context.Context, filters ...Filter) ([]RaceControl, error) {
	return list[RaceControl](ctx, c, EndpointRaceControl, filters)
}
