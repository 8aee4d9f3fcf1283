package f1

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// TestRecomputeIsSerialized holds a penalty's transaction open while a
// batch of results of the same season comes in: the results' transaction
// waits for it, and its recomputation then sees the penalty. Were the two
// recomputations to run side by side, the last to commit would miss the
// other's change.
func TestRecomputeIsSerialized(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		s := storetest.Open(t, d)
		for _, p := range Processors(nil) {
			if err := stream.Migrate(ctx, s, p.Spec()); err != nil {
				t.Fatal(err)
			}
		}
		pos := func(n int) *int { return &n }
		result := func(car int, driver, team string, position int) stream.Record[Result] {
			return stream.Record[Result]{Value: Result{Season: 2020, Round: 5, Session: Race, CarNumber: car, DriverID: driver,
				TeamID: team, Status: Finished, Position: pos(position), PointsScale: ScaleFull}}
		}
		// A first result, so that the team exists when the penalty comes.
		if err := s.InTx(ctx, func(tx *sql.Tx) error {
			return handleResults(ctx, tx, []stream.Record[Result]{result(11, "sergio-perez", "racing-point", 1)})
		}); err != nil {
			t.Fatal(err)
		}

		tx1, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx1.Rollback() }()
		penalty := stream.Record[Penalty]{Value: Penalty{ID: "p", Season: 2020, Kind: PenaltyConstructor, Target: "racing-point",
			Points: -15, FromRound: 5}}
		if err := handlePenalties(ctx, tx1, []stream.Record[Penalty]{penalty}); err != nil {
			t.Fatal(err)
		}

		done := make(chan error, 1)
		go func() {
			done <- s.InTx(ctx, func(tx *sql.Tx) error {
				return handleResults(ctx, tx, []stream.Record[Result]{result(18, "lance-stroll", "racing-point", 2)})
			})
		}()
		select {
		case err := <-done:
			t.Fatalf("the results' transaction did not wait for the penalty's: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		if err := tx1.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("results after the penalty: %v", err)
		}
		cs, err := ConstructorStandings(ctx, s.DB(), 2020, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].Points != 25+18-15 {
			t.Fatalf("Racing Point: %+v, want 28 points (25 + 18 - 15)", cs)
		}
	})
}
