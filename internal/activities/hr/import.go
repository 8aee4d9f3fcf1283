package hr

import (
	"context"
	"errors"
	"fmt"

	"github.com/podiumhq/podium/internal/store"
)

// Imported is the outcome of an import: the parse report and what the
// store did with the kept rows.
type Imported struct {
	Report
	Inserted, Updated int
}

// Summary is a one-line account of the import, for the command line.
func (i Imported) Summary() string {
	return fmt.Sprintf("%s; %d employees added, %d updated", i.Report.Summary(), i.Inserted, i.Updated)
}

// ImportFile is `podium activities import-hr FILE [--sports FILE]`: it
// parses the register at path (and the sports file at sportsPath, if not
// empty), applies the migrations and stores the kept rows. Rejected rows
// are in the report; they do not stop the import.
func ImportFile(ctx context.Context, s *store.Store, path, sportsPath string, opts Options) (Imported, error) {
	reg, rep, err := ParseFile(path, sportsPath, opts)
	if err != nil {
		return Imported{Report: rep}, err
	}
	if err := checkNotEmpty(reg, rep); err != nil {
		return Imported{Report: rep}, err
	}
	return save(ctx, s, reg, rep)
}

// ErrNoEmployee is the error of an import that keeps no employee: an empty
// file, a header line alone, or every row rejected.
var ErrNoEmployee = errors.New("no employee imported")

// checkNotEmpty refuses a register with no employee: importing it would
// change nothing, and an empty file is a mistake (the wrong file, an export
// that failed).
func checkNotEmpty(reg Register, rep Report) error {
	if len(reg.Employees) > 0 {
		return nil
	}
	if rep.Rejected > 0 {
		return fmt.Errorf("%w: all %d rows were rejected (see above)", ErrNoEmployee, rep.Rejected)
	}
	return fmt.Errorf("%w: the file has no employee row; expected a header line, then one employee a line "+
		"(ID salarié;Nom;Prénom;Date de naissance;BU;Date d'embauche;Salaire brut;Type de contrat;Nombre de jours de CP;Adresse du domicile;Moyen de déplacement, or the English headers)", ErrNoEmployee)
}

// ImportSample imports the synthetic register shipped with podium (see
// Sample), for `podium demo`.
func ImportSample(ctx context.Context, s *store.Store) (Imported, error) {
	reg, rep, err := Sample(Options{})
	if err != nil {
		return Imported{Report: rep}, err
	}
	return save(ctx, s, reg, rep)
}

func save(ctx context.Context, s *store.Store, reg Register, rep Report) (Imported, error) {
	out := Imported{Report: rep}
	if err := Migrate(ctx, s); err != nil {
		return out, err
	}
	var err error
	out.Inserted, out.Updated, err = Store(ctx, s.DB(), reg)
	return out, err
}
