package hr

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/podiumhq/podium/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Component is the name under which the register's migrations are
// recorded.
const Component = "hr"

// Tables lists the tables of the register, in the order to drop them.
var Tables = []string{"hr_employee_sports", "hr_employees"}

// Migrations returns the register's migrations (see store.Migrate).
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists
	}
	return sub
}

// Migrate creates or updates the register's tables.
func Migrate(ctx context.Context, s *store.Store) error {
	return s.Migrate(ctx, Component, Migrations())
}

// Store saves reg in hr_employees and hr_employee_sports in one
// transaction: a new employee is inserted, a known one (same id) updated in
// place, and each stored employee's sports are replaced by the register's.
// Employees absent from reg are left as they are. It returns how many
// employees were inserted and how many updated. The tables must exist (see
// Migrate).
func Store(ctx context.Context, db *sql.DB, reg Register) (inserted, updated int, err error) {
	err = store.RetryConflicts(ctx, func() error {
		var err error
		inserted, updated, err = storeOnce(ctx, db, reg)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return inserted, updated, nil
}

func storeOnce(ctx context.Context, db *sql.DB, reg Register) (inserted, updated int, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("store HR register: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	existing := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT employee_id FROM hr_employees`)
	if err != nil {
		return 0, 0, fmt.Errorf("store HR register: read employee ids (did the hr migrations run?): %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return 0, 0, fmt.Errorf("store HR register: read employee ids: %w", err)
		}
		existing[id] = true
	}
	if err := rows.Close(); err != nil {
		return 0, 0, fmt.Errorf("store HR register: read employee ids: %w", err)
	}
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("store HR register: read employee ids: %w", err)
	}

	now := time.Now().UTC()
	const upsert = `INSERT INTO hr_employees (employee_id, last_name, first_name, birth_date, business_unit,
		hire_date, gross_salary, contract_type, paid_leave_days, home_address, latitude, longitude, commute_mode,
		imported_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
		ON CONFLICT (employee_id) DO UPDATE SET
			last_name = excluded.last_name, first_name = excluded.first_name, birth_date = excluded.birth_date,
			business_unit = excluded.business_unit, hire_date = excluded.hire_date,
			gross_salary = excluded.gross_salary, contract_type = excluded.contract_type,
			paid_leave_days = excluded.paid_leave_days, home_address = excluded.home_address,
			latitude = excluded.latitude, longitude = excluded.longitude, commute_mode = excluded.commute_mode,
			updated_at = excluded.updated_at`
	for _, e := range reg.Employees {
		if e.ID == "" {
			return 0, 0, errors.New("store HR register: an employee has no id")
		}
		if _, err := tx.ExecContext(ctx, upsert, e.ID, e.LastName, e.FirstName, dateOnly(e.BirthDate), e.BusinessUnit,
			dateOnly(e.HireDate), e.GrossSalary, e.ContractType, e.PaidLeaveDays, e.HomeAddress, e.Latitude, e.Longitude,
			string(e.CommuteMode), now); err != nil {
			// The error names the employee by id only: no personal data.
			return 0, 0, fmt.Errorf("store HR register: employee %s: %w", e.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM hr_employee_sports WHERE employee_id = $1`, e.ID); err != nil {
			return 0, 0, fmt.Errorf("store HR register: sports of employee %s: %w", e.ID, err)
		}
		for i, s := range e.Sports {
			if _, err := tx.ExecContext(ctx, `INSERT INTO hr_employee_sports (employee_id, position, sport) VALUES ($1, $2, $3)
				ON CONFLICT (employee_id, sport) DO NOTHING`, e.ID, i, s); err != nil {
				return 0, 0, fmt.Errorf("store HR register: sports of employee %s: %w", e.ID, err)
			}
		}
		if existing[e.ID] {
			updated++
		} else {
			inserted++
			existing[e.ID] = true
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("store HR register: commit: %w", err)
	}
	return inserted, updated, nil
}

// dateOnly returns the day of t at midnight UTC.
func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Load reads the stored register, employees ordered by id.
func Load(ctx context.Context, db *sql.DB) (Register, error) {
	rows, err := db.QueryContext(ctx, `SELECT employee_id, last_name, first_name, birth_date, business_unit, hire_date,
		gross_salary, contract_type, paid_leave_days, home_address, latitude, longitude, commute_mode
		FROM hr_employees ORDER BY employee_id`)
	if err != nil {
		return Register{}, fmt.Errorf("load HR register: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var reg Register
	index := map[string]int{}
	for rows.Next() {
		var e Employee
		var lat, lon sql.NullFloat64
		var mode string
		if err := rows.Scan(&e.ID, &e.LastName, &e.FirstName, &e.BirthDate, &e.BusinessUnit, &e.HireDate,
			&e.GrossSalary, &e.ContractType, &e.PaidLeaveDays, &e.HomeAddress, &lat, &lon, &mode); err != nil {
			return Register{}, fmt.Errorf("load HR register: %w", err)
		}
		e.BirthDate, e.HireDate = dateOnly(e.BirthDate), dateOnly(e.HireDate)
		e.CommuteMode = CommuteMode(mode)
		if lat.Valid && lon.Valid {
			e.Latitude, e.Longitude = &lat.Float64, &lon.Float64
		}
		index[e.ID] = len(reg.Employees)
		reg.Employees = append(reg.Employees, e)
	}
	if err := rows.Err(); err != nil {
		return Register{}, fmt.Errorf("load HR register: %w", err)
	}
	srows, err := db.QueryContext(ctx, `SELECT employee_id, sport FROM hr_employee_sports ORDER BY employee_id, position`)
	if err != nil {
		return Register{}, fmt.Errorf("load HR register sports: %w", err)
	}
	defer func() { _ = srows.Close() }()
	for srows.Next() {
		var id, sport string
		if err := srows.Scan(&id, &sport); err != nil {
			return Register{}, fmt.Errorf("load HR register sports: %w", err)
		}
		if i, ok := index[id]; ok {
			reg.Employees[i].Sports = append(reg.Employees[i].Sports, sport)
		}
	}
	if err := srows.Err(); err != nil {
		return Register{}, fmt.Errorf("load HR register sports: %w", err)
	}
	return reg, nil
}

// Unknown returns the ids of ids that are not in the register, in the
// order given (the register's tables must exist: see Migrate).
func Unknown(ctx context.Context, db *sql.DB, ids []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM hr_employees WHERE employee_id = $1`, id).Scan(&n); err != nil {
			return nil, fmt.Errorf("look up employee %q in the HR register: %w", id, err)
		}
		if n == 0 {
			out = append(out, id)
		}
	}
	return out, nil
}
