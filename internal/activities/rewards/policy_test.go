package rewards

import (
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities/hr"
)

func km(f float64) *float64 { return &f }

func TestPolicyBonus(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		name string
		in   Commute
		want Bonus
	}{
		{"walker within the limit", Commute{Known: true, Mode: hr.Walking, GrossSalary: 40000, Km: km(15)}, Bonus{Eligible: true, Amount: 200000}},
		{"walker beyond the limit", Commute{Known: true, Mode: hr.Walking, GrossSalary: 40000, Km: km(15.2)},
			Bonus{Flag: "declared Walking/running but the home is 15.2 km from the office (limit 15 km)"}},
		{"cyclist within the limit", Commute{Known: true, Mode: hr.Bike, GrossSalary: 35123.45, Km: km(24.9)}, Bonus{Eligible: true, Amount: 175617}},
		{"cyclist beyond the limit", Commute{Known: true, Mode: hr.Bike, GrossSalary: 35000, Km: km(30)},
			Bonus{Flag: "declared Bike/scooter/other but the home is 30.0 km from the office (limit 25 km)"}},
		{"unknown distance", Commute{Known: true, Mode: hr.Bike, GrossSalary: 35000, Reason: "address not found"},
			Bonus{Flag: "commute distance unknown: address not found"}},
		{"distance to review", Commute{Known: true, Mode: hr.Walking, GrossSalary: 35000, Km: km(3), NeedsReview: true, Reason: "doubtful"},
			Bonus{Flag: "commute distance to review: doubtful"}},
		{"car", Commute{Known: true, Mode: hr.Car, GrossSalary: 35000, Km: km(3)}, Bonus{}},
		{"public transport", Commute{Known: true, Mode: hr.PublicTransport, GrossSalary: 35000}, Bonus{}},
		{"not in the register", Commute{}, Bonus{Flag: "not in the HR register"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Bonus(tt.in); got != tt.want {
				t.Errorf("Bonus = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPolicyWellness(t *testing.T) {
	p := DefaultPolicy()
	for _, tt := range []struct{ n, want int }{{0, 0}, {14, 0}, {15, 5}, {200, 5}} {
		if got := p.Wellness(tt.n); got != tt.want {
			t.Errorf("Wellness(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	good := DefaultPolicy()
	tests := []struct {
		name string
		edit func(p *Policy)
		ok   bool
	}{
		{"default", func(*Policy) {}, true},
		{"rate above 1", func(p *Policy) { p.BonusRate = 5 }, false},
		{"negative limit", func(p *Policy) { p.BikeMaxKm = -1 }, false},
		{"no activity needed", func(p *Policy) { p.WellnessMinActivities = 0 }, false},
		{"no time zone", func(p *Policy) { p.Location = nil }, false},
		{"UTC", func(p *Policy) { p.Location = time.UTC }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.edit(&p)
			if err := p.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
