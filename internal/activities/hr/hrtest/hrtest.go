// Package hrtest sets up the HR register for the tests of the packages
// that read it.
package hrtest

import (
	"context"
	"testing"

	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/store"
)

// Sample imports the sample register shipped with podium into s and
// returns it as s holds it.
func Sample(t testing.TB, s *store.Store) hr.Register {
	t.Helper()
	ctx := context.Background()
	if _, err := hr.ImportSample(ctx, s); err != nil {
		t.Fatalf("import the sample register: %v", err)
	}
	reg, err := hr.Load(ctx, s.DB())
	if err != nil {
		t.Fatalf("load the sample register: %v", err)
	}
	return reg
}
