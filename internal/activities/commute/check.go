package commute

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Component is the name under which the commute check's migrations are
// recorded.
const Component = "commute"

// Tables lists the commute check's tables.
var Tables = []string{"commute_distances"}

// Migrations returns the commute check's migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists
	}
	return sub
}

// Migrate creates or updates the tables Check uses: the HR register's and
// commute_distances.
func Migrate(ctx context.Context, s *store.Store) error {
	if err := hr.Migrate(ctx, s); err != nil {
		return err
	}
	return s.Migrate(ctx, Component, Migrations())
}

// SuspiciousMeters is the distance beyond which a computed distance is
// flagged for HR: the address was probably placed in the wrong town.
const SuspiciousMeters = 150_000

// Flag is an employee HR must look at.
type Flag struct {
	EmployeeID string
	Reason     string // never quotes the address
}

// Summary says what Check did.
type Summary struct {
	// Employees is the number of employees in the register.
	Employees int
	// Cached counts the distances already known and still valid.
	Cached int
	// Computed counts the distances computed by this run.
	Computed int
	// Unplaceable counts the employees whose distance is unknown after this
	// run.
	Unplaceable int
	// Review lists every employee flagged for HR after this run: homes that
	// cannot be placed and doubtful distances.
	Review []Flag
}

// String is a one-line account of the run.
func (s Summary) String() string {
	return fmt.Sprintf("%d employees: %d distances already known, %d computed, %d unknown; %d to review by HR",
		s.Employees, s.Cached, s.Computed, s.Unplaceable, len(s.Review))
}

// CheckOptions tune CheckWith.
type CheckOptions struct {
	// Recompute computes every distance again, even those cached.
	Recompute bool
	// Progress, when set, is called after each employee.
	Progress func(done, total int)
}

// Check computes the home-to-office distances the store lacks with p and
// caches them in commute_distances (see CheckWith).
func Check(ctx context.Context, db *sql.DB, p Provider, office Place) (Summary, error) {
	return CheckWith(ctx, db, p, office, CheckOptions{})
}

// CheckWith computes the distance from each employee's home (hr_employees)
// to the office that commute_distances does not hold yet for the
// employee's current address, coordinates and commute mode and for this
// office, and stores it. Distances of unknown homes are tried again on each
// run. A home that cannot be placed (ErrUnplaceable) is stored with no
// distance and flagged for HR with the reason; so is a doubtful distance.
// Any other error (a service down, a key refused) stops the run: what was
// computed so far is kept, and the next run goes on from there. The tables
// must exist (see Migrate).
func CheckWith(ctx context.Context, db *sql.DB, p Provider, office Place, opts CheckOptions) (Summary, error) {
	var sum Summary
	if !office.HasCoordinates() && office.Address == "" {
		return sum, errors.New("commute check: the office has neither an address nor coordinates")
	}
	homes, err := loadHomes(ctx, db)
	if err != nil {
		return sum, err
	}
	sum.Employees = len(homes)
	cached, err := loadRows(ctx, db)
	if err != nil {
		return sum, err
	}
	// Forget the distances of employees no longer in the register.
	if _, err := db.ExecContext(ctx, `DELETE FROM commute_distances WHERE employee_id NOT IN (SELECT employee_id FROM hr_employees)`); err != nil {
		return sum, fmt.Errorf("commute check: forget former employees: %w", err)
	}
	oh := officeHash(office)
	for i, h := range homes {
		ph := h.hash()
		row, ok := cached[h.id]
		switch {
		case ok && !opts.Recompute && row.placeHash == ph && row.officeHash == oh && row.meters != nil:
			sum.Cached++
			if row.needsReview {
				sum.Review = append(sum.Review, Flag{h.id, row.reason})
			}
		default:
			if err := ctx.Err(); err != nil {
				return sum, err
			}
			row, err := compute(ctx, forMode(p, h.mode), h, office)
			if err != nil {
				return sum, fmt.Errorf("commute check: distance of employee %s: %w", h.id, err)
			}
			row.placeHash, row.officeHash = ph, oh
			if err := save(ctx, db, h.id, row); err != nil {
				return sum, err
			}
			sum.Computed++
			if row.meters == nil {
				sum.Unplaceable++
			}
			if row.needsReview {
				sum.Review = append(sum.Review, Flag{h.id, row.reason})
			}
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(homes))
		}
	}
	return sum, nil
}

// compute asks p for one distance and turns the answer into a row.
func compute(ctx context.Context, p Provider, h home, office Place) (distanceRow, error) {
	res, err := p.Distance(ctx, h.place, office)
	switch {
	case errors.Is(err, ErrUnplaceable):
		return distanceRow{needsReview: true, reason: "distance unknown: " + err.Error()}, nil
	case err != nil:
		return distanceRow{}, err
	}
	row := distanceRow{meters: &res.Meters, source: res.Source}
	var doubts []string
	if res.Doubt != "" {
		doubts = append(doubts, res.Doubt)
	}
	if res.Meters > SuspiciousMeters {
		doubts = append(doubts, fmt.Sprintf("distance over %d km: the address may have been placed in the wrong town", SuspiciousMeters/1000))
	}
	if len(doubts) > 0 {
		row.needsReview, row.reason = true, "doubtful distance: "+strings.Join(doubts, "; ")
	}
	return row, nil
}

// home is what Check needs of an employee.
type home struct {
	id    string
	place Place
	mode  hr.CommuteMode
}

// hash identifies what the distance depends on: address, coordinates and
// commute mode (a mode-aware provider routes walkers on foot).
func (h home) hash() string {
	return digest(strings.TrimSpace(h.place.Address), coord(h.place.Lat), coord(h.place.Lon), string(h.mode))
}

func officeHash(p Place) string {
	return digest(strings.TrimSpace(p.Address), coord(p.Lat), coord(p.Lon))
}

func coord(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func digest(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

func loadHomes(ctx context.Context, db *sql.DB) ([]home, error) {
	rows, err := db.QueryContext(ctx, `SELECT employee_id, home_address, latitude, longitude, commute_mode
		FROM hr_employees ORDER BY employee_id`)
	if err != nil {
		return nil, fmt.Errorf("commute check: read the HR register (did the migrations run?): %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []home
	for rows.Next() {
		var h home
		var lat, lon sql.NullFloat64
		var mode string
		if err := rows.Scan(&h.id, &h.place.Address, &lat, &lon, &mode); err != nil {
			return nil, fmt.Errorf("commute check: read the HR register: %w", err)
		}
		if lat.Valid && lon.Valid {
			h.place.Lat, h.place.Lon = &lat.Float64, &lon.Float64
		}
		h.mode = hr.CommuteMode(mode)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("commute check: read the HR register: %w", err)
	}
	return out, nil
}

// distanceRow is a row of commute_distances.
type distanceRow struct {
	placeHash, officeHash string
	meters                *float64
	source                string
	needsReview           bool
	reason                string
	computedAt            time.Time
}

func loadRows(ctx context.Context, db *sql.DB) (map[string]distanceRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT employee_id, place_hash, office_hash, meters, source, needs_review,
		review_reason, computed_at FROM commute_distances`)
	if err != nil {
		return nil, fmt.Errorf("commute check: read cached distances (did the migrations run?): %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]distanceRow{}
	for rows.Next() {
		var id string
		var r distanceRow
		var m sql.NullFloat64
		if err := rows.Scan(&id, &r.placeHash, &r.officeHash, &m, &r.source, &r.needsReview, &r.reason, &r.computedAt); err != nil {
			return nil, fmt.Errorf("commute check: read cached distances: %w", err)
		}
		if m.Valid {
			r.meters = &m.Float64
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("commute check: read cached distances: %w", err)
	}
	return out, nil
}

// save replaces the distance of an employee.
func save(ctx context.Context, db *sql.DB, id string, r distanceRow) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("commute check: save the distance of employee %s: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `DELETE FROM commute_distances WHERE employee_id = $1`, id); err != nil {
		return fmt.Errorf("commute check: save the distance of employee %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO commute_distances (employee_id, place_hash, office_hash, meters, source,
		needs_review, review_reason, computed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		id, r.placeHash, r.officeHash, r.meters, r.source, r.needsReview, r.reason, time.Now().UTC()); err != nil {
		return fmt.Errorf("commute check: save the distance of employee %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commute check: save the distance of employee %s: %w", id, err)
	}
	return nil
}

// Distance is the stored commute distance of an employee.
type Distance struct {
	EmployeeID string
	// Meters is the home-to-office distance; nil when unknown.
	Meters *float64
	// Source names the provider that computed it.
	Source string
	// NeedsReview is set when HR must check the employee: distance unknown
	// or doubtful. Reason says why.
	NeedsReview bool
	Reason      string
	ComputedAt  time.Time
}

// Distances returns the stored distances of the employees of the register
// whose home address, coordinates and commute mode have not changed since
// they were computed, by employee id. An employee without an entry has no
// distance yet: run Check.
func Distances(ctx context.Context, db *sql.DB) ([]Distance, error) {
	homes, err := loadHomes(ctx, db)
	if err != nil {
		return nil, err
	}
	rows, err := loadRows(ctx, db)
	if err != nil {
		return nil, err
	}
	var out []Distance
	for _, h := range homes {
		r, ok := rows[h.id]
		if !ok || r.placeHash != h.hash() {
			continue
		}
		out = append(out, Distance{EmployeeID: h.id, Meters: r.meters, Source: r.source,
			NeedsReview: r.needsReview, Reason: r.reason, ComputedAt: r.computedAt})
	}
	return out, nil
}

// Run is `podium activities commute`: it applies the migrations, builds the
// provider cfg describes and computes the missing distances to office.
func Run(ctx context.Context, s *store.Store, cfg Config, office Place) (Summary, error) {
	p, err := New(cfg)
	if err != nil {
		return Summary{}, err
	}
	if err := Migrate(ctx, s); err != nil {
		return Summary{}, err
	}
	return Check(ctx, s.DB(), p, office)
}
