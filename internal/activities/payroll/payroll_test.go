package payroll

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/lakehouse"
)

// TestRulesVersion: the version changes with every input of the figures
// and with nothing else.
func TestRulesVersion(t *testing.T) {
	suite := quality.Default()
	base := RulesVersion(rewards.DefaultPolicy(), suite)
	if base != RulesVersion(rewards.DefaultPolicy(), quality.Default()) || !strings.HasPrefix(base, "sha256:") {
		t.Fatalf("not stable: %s", base)
	}
	utc := rewards.DefaultPolicy()
	utc.Location = time.UTC
	fewer := &quality.Suite{Source: suite.Source, Expectations: suite.Expectations[1:]}
	renamed, err := quality.Parse("other.yaml", quality.DefaultYAML())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		policy func(p *rewards.Policy)
		suite  *quality.Suite
		same   bool
	}{
		{"bonus rate", func(p *rewards.Policy) { p.BonusRate = 0.06 }, suite, false},
		{"walk limit", func(p *rewards.Policy) { p.WalkMaxKm = 10 }, suite, false},
		{"bike limit", func(p *rewards.Policy) { p.BikeMaxKm = 30 }, suite, false},
		{"wellness threshold", func(p *rewards.Policy) { p.WellnessMinActivities = 20 }, suite, false},
		{"wellness days", func(p *rewards.Policy) { p.WellnessDays = 3 }, suite, false},
		{"rolling year", func(p *rewards.Policy) { p.RollingYear = true }, suite, false},
		{"time zone", func(p *rewards.Policy) { p.Location = utc.Location }, suite, false},
		{"a rule less", func(*rewards.Policy) {}, fewer, false},
		{"the same rules from another file", func(*rewards.Policy) {}, renamed, true},
	}
	for _, tt := range tests {
		p := rewards.DefaultPolicy()
		tt.policy(&p)
		if got := RulesVersion(p, tt.suite); (got == base) != tt.same {
			t.Errorf("%s: version %s, base %s, want same=%v", tt.name, got, base, tt.same)
		}
	}
}

// TestCSV: exact decimals, a fixed layout, the checksum of the bytes.
func TestCSV(t *testing.T) {
	km := 9.5
	e := Export{Year: 2025, Snapshot: lakehouse.Snapshot{ID: 42, Time: time.Date(2026, 1, 31, 18, 0, 0, 0, time.UTC)}, RulesVersion: "sha256:x",
		Rows: []Row{{EmployeeID: "1001", BusinessUnit: "Ventes", Activities: 54, Meters: 123456, Sports: "Ride,Run", CommuteMode: "bike_scooter_other",
			CommuteKm: &km, CommuteCheck: "ok", BonusEligible: true, Bonus: 198005, WellnessDays: 5},
			{EmployeeID: "1002", Meters: 7, CommuteCheck: "declared Walking/running but the home is 60.9 km from the office", Bonus: 0}}}
	want := strings.Join(Header, ",") + "\n" +
		"1001,2025,Ventes,54,123.456,\"Ride,Run\",bike_scooter_other,9.5,ok,true,1980.05,5\n" +
		"1002,2025,,0,0.007,,,,declared Walking/running but the home is 60.9 km from the office,false,0.00,0\n"
	if got := string(e.CSV()); got != want {
		t.Errorf("CSV:\n%s\nwant\n%s", got, want)
	}
	m := e.Meta()
	if m.Checksum != e.Checksum() || m.BonusTotalEUR != "1980.05" || m.Employees != 2 || m.Tag != "payroll-42" {
		t.Errorf("meta %+v", m)
	}
	var a, b bytes.Buffer
	if err := e.WriteXLSX(&a); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if err := e.WriteXLSX(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two workbooks of the same export differ")
	}
}
