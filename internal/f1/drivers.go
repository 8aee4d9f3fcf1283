package f1

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/podiumhq/podium/internal/store"
)

// SeasonDriver is a driver of a season as the results have them: one row
// of f1_drivers. The car number, names and team are those of the driver's
// latest result (the race after the sprint of a weekend); the headshot is
// the latest one a result brought.
type SeasonDriver struct {
	Season     int    `json:"season"`
	DriverID   string `json:"driver_id"` // archive id, e.g. "max-verstappen"
	CarNumber  int    `json:"car_number"`
	DriverCode string `json:"driver_code"` // acronym, e.g. "VER"
	DriverName string `json:"driver_name"`
	TeamID     string `json:"team_id"`
	TeamName   string `json:"team_name"`
	TeamColour string `json:"team_colour,omitempty"`
	// HeadshotURL is OpenF1's photo of the driver, "" when no result had
	// one (the archive's results have none).
	HeadshotURL string `json:"headshot_url,omitempty"`
	// LastRound is the latest round with a result of the driver.
	LastRound int `json:"last_round"`
}

// seasonDrivers derives the drivers of a season from its results, given in
// the order of seasonResults (rounds in order, the sprint before the race):
// a later result overrides an earlier one. They come in the order of their
// first result.
func seasonDrivers(season int, results []ScoredResult) []SeasonDriver {
	idx := map[string]int{}
	var out []SeasonDriver
	for _, r := range results {
		if r.Season != season {
			continue
		}
		i, ok := idx[r.DriverID]
		if !ok {
			i = len(out)
			idx[r.DriverID] = i
			out = append(out, SeasonDriver{Season: season, DriverID: r.DriverID})
		}
		d := &out[i]
		d.CarNumber, d.DriverCode, d.DriverName = r.CarNumber, r.DriverCode, r.DriverName
		d.TeamID, d.TeamName, d.TeamColour = r.TeamID, r.TeamName, r.TeamColour
		d.LastRound = r.Round
		if r.HeadshotURL != "" {
			d.HeadshotURL = r.HeadshotURL
		}
	}
	return out
}

// driverColumns are the columns of f1_drivers, in the order of
// SeasonDriver's fields.
const driverColumns = `season, driver_id, car_number, driver_code, driver_name, team_id, team_name, team_colour,
	headshot_url, last_round`

// writeDrivers replaces the season's rows of f1_drivers.
func writeDrivers(ctx context.Context, tx *sql.Tx, season int, ds []SeasonDriver) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM f1_drivers WHERE season = $1`, season); err != nil {
		return fmt.Errorf("clear the drivers of %d: %w", season, err)
	}
	rows := make([][]any, len(ds))
	for i, d := range ds {
		rows[i] = []any{d.Season, d.DriverID, d.CarNumber, d.DriverCode, d.DriverName, d.TeamID, d.TeamName,
			d.TeamColour, d.HeadshotURL, d.LastRound}
	}
	if err := store.InsertRows(ctx, tx, `INSERT INTO f1_drivers (`+driverColumns+`)`, rows, ""); err != nil {
		return fmt.Errorf("write the drivers of %d: %w", season, err)
	}
	return nil
}

// SeasonDrivers returns the drivers of season with results in the store,
// by car number; empty when the store has none.
func SeasonDrivers(ctx context.Context, q Queryer, season int) ([]SeasonDriver, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+driverColumns+` FROM f1_drivers WHERE season = $1
		ORDER BY car_number, driver_id`, season)
	if err != nil {
		return nil, fmt.Errorf("read the drivers of %d: %w", season, err)
	}
	defer rows.Close()
	out := []SeasonDriver{}
	for rows.Next() {
		var d SeasonDriver
		if err := rows.Scan(&d.Season, &d.DriverID, &d.CarNumber, &d.DriverCode, &d.DriverName, &d.TeamID,
			&d.TeamName, &d.TeamColour, &d.HeadshotURL, &d.LastRound); err != nil {
			return nil, fmt.Errorf("read the drivers of %d: %w", season, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the drivers of %d: %w", season, err)
	}
	return out, nil
}
