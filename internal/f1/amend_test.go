package f1_test

import (
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/f1"
)

// TestNotes checks how the race page words amendments, from audit trails
// as f1.Amendments returns them.
func TestNotes(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	at := time.Date(2023, 10, 22, 23, 0, 0, 0, time.UTC)
	row := func(version int64, car int, name, field string, old, cur *string) f1.Amendment {
		return f1.Amendment{Amended: f1.Amended{Season: 2023, Round: 18, Session: f1.Race, CarNumber: car, DriverName: name,
			At: at, Version: version}, Field: field, Old: old, New: cur}
	}
	trail := []f1.Amendment{
		row(2, 44, "Lewis Hamilton", f1.FieldStatus, s("FINISHED"), s("DSQ")),
		row(2, 44, "Lewis Hamilton", f1.FieldPosition, s("2"), nil),
		row(2, 44, "Lewis Hamilton", f1.FieldPoints, s("18"), s("0")),
		row(2, 44, "Lewis Hamilton", f1.FieldReason, s(""), s("Illegal skid block wear")),
		row(2, 4, "Lando Norris", f1.FieldPosition, s("3"), s("2")),
		row(2, 4, "Lando Norris", f1.FieldPoints, s("15"), s("18")),
		row(3, 44, "Lewis Hamilton", f1.FieldStatus, s("DSQ"), s("FINISHED")),
		row(3, 44, "Lewis Hamilton", f1.FieldPosition, nil, s("2")),
		row(3, 44, "Lewis Hamilton", f1.FieldPoints, s("0"), s("18")),
		row(4, 22, "Yuki Tsunoda", f1.FieldFastestLap, s("true"), s("false")),
		row(4, 22, "Yuki Tsunoda", f1.FieldPoints, s("2"), s("1")),
		row(5, 18, "Lance Stroll", f1.FieldTime, s("+49.396"), s("+54.396")),
		row(6, 14, "Fernando Alonso", f1.FieldStatus, s("FINISHED"), s("DNF")),
		row(6, 14, "Fernando Alonso", f1.FieldPosition, s("15"), nil),
		row(7, 2, "Logan Sargeant", f1.FieldLaps, s("55"), s("56")),
	}
	want := []string{
		"Lewis Hamilton disqualified (Illegal skid block wear), −18 pts",
		"Lando Norris P3 → P2, +3 pts",
		"Lewis Hamilton reinstated P2, +18 pts",
		"Yuki Tsunoda fastest lap removed, −1 pt",
		"Lance Stroll time +49.396 → +54.396",
		"Fernando Alonso retired (DNF)",
		"Logan Sargeant laps 55 → 56",
	}
	got := f1.Notes(trail)
	if len(got) != len(want) {
		t.Fatalf("%d notes, want %d: %+v", len(got), len(want), got)
	}
	for i, n := range got {
		if n.Text != want[i] {
			t.Errorf("note %d: %q, want %q", i, n.Text, want[i])
		}
	}
	if got[0].PointsDelta != -18 || got[0].CarNumber != 44 || !got[0].At.Equal(at) {
		t.Errorf("first note: %+v", got[0])
	}
}
