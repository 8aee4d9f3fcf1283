package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
)

func TestRender(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 6, 30, 0, 0, time.UTC) // Monday 07:30 in Paris
	act := func(sport string, m float64, s int) activities.Activity {
		return activities.Activity{ID: 1, EmployeeID: "E1", StartTime: start, SportType: sport, DistanceM: m, ElapsedS: s}
	}
	tests := []struct {
		name, lang, who string
		a               activities.Activity
		want, date      string
	}{
		{"run fr", "fr", "Camille D.", act("Run", 12400, 3720),
			"🏃 Bravo Camille D. ! 12,4 km de course à pied en 1 h 02 min", "lundi 2 mars 2026 à 07:30"},
		{"run en", "en", "Camille D.", act("Run", 12400, 3720),
			"🏃 Well done Camille D.! 12.4 km run in 1h 02m", "Monday 2 March 2026 at 07:30"},
		{"ride fr", "fr", "Léa M.", act("Ride", 32050, 4810),
			"🚴 Bravo Léa M. ! 32,1 km de vélo en 1 h 20 min", ""},
		{"ride en", "en", "Léa M.", act("Ride", 32050, 4810),
			"🚴 Well done Léa M.! 32.1 km ride in 1h 20m", ""},
		{"swim under a km fr", "fr", "Hugo B.", act("Swim", 800, 1500),
			"🏊 Bravo Hugo B. ! 800 m de natation en 25 min", ""},
		{"swim under a km en", "en", "Hugo B.", act("Swim", 800, 1500),
			"🏊 Well done Hugo B.! 800 m swim in 25m", ""},
		{"tennis, no distance, fr", "fr", "Camille D.", act("Tennis", 0, 4500),
			"🎾 Bravo Camille D. ! 1 h 15 min de tennis", ""},
		{"tennis, no distance, en", "en", "Camille D.", act("Tennis", 0, 4500),
			"🎾 Well done Camille D.! 1h 15m of tennis", ""},
		{"fencing, elision", "fr", "Inès K.", act("Fencing", 0, 5400),
			"🤺 Bravo Inès K. ! 1 h 30 min d'escrime", ""},
		{"climbing fr", "fr", "Noé P.", act("RockClimbing", 0, 7200),
			"🧗 Bravo Noé P. ! 2 h 00 min d'escalade", ""},
		{"unknown sport, unknown employee fr", "fr", "", act("Quidditch", 0, 2700),
			"🏅 Bravo ! 45 min de sport", ""},
		{"unknown employee en", "en", "", act("Walk", 5000, 3600),
			"🚶 Well done! 5.0 km walk in 1h 00m", ""},
		{"no distance nor duration", "en", "Camille D.", act("Yoga", 0, 0),
			"🧘 Well done Camille D.! a yoga session", ""},
		{"default language is French", "", "Camille D.", act("Hike", 12000, 10800),
			"🥾 Bravo Camille D. ! 12,0 km de randonnée en 3 h 00 min", ""},
		{"mrkdwn characters in the name", "en", "Tom & <Jerry> J.", act("Run", 5000, 1800),
			"🏃 Well done Tom & <Jerry> J.! 5.0 km run in 30m", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := render(tt.a, tt.who, tt.lang, paris)
			if m.Text != tt.want {
				t.Errorf("text\n got %q\nwant %q", m.Text, tt.want)
			}
			if len(m.Blocks) != 2 || m.Blocks[0].Type != "section" || m.Blocks[0].Text.Type != "mrkdwn" ||
				m.Blocks[1].Type != "context" || len(m.Blocks[1].Elements) != 1 {
				t.Fatalf("blocks: %+v", m.Blocks)
			}
			if got, want := m.Blocks[0].Text.Text, escape(tt.want); got != want {
				t.Errorf("section %q, want %q", got, want)
			}
			if tt.date != "" && m.Blocks[1].Elements[0].Text != tt.date {
				t.Errorf("date %q, want %q", m.Blocks[1].Elements[0].Text, tt.date)
			}
		})
	}
}

func TestRenderEscapesMrkdwn(t *testing.T) {
	m := render(activities.Activity{SportType: "Run", DistanceM: 5000, ElapsedS: 1800}, "Tom & <Jerry> J.", "en", time.UTC)
	if got := m.Blocks[0].Text.Text; !strings.Contains(got, "Tom &amp; &lt;Jerry&gt; J.") {
		t.Errorf("section not escaped: %q", got)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil || back["text"] == nil || back["blocks"] == nil {
		t.Errorf("payload %s: %v", b, err)
	}
}

func TestDisplayName(t *testing.T) {
	for _, tt := range []struct{ first, last, want string }{
		{"Camille", "Dupont", "Camille D."},
		{"Élodie", "élan", "Élodie É."},
		{" Léa ", " martin", "Léa M."},
		{"Camille", "", "Camille"},
		{"", "Dupont", "D."},
		{"", "", ""},
	} {
		if got := displayName(tt.first, tt.last); got != tt.want {
			t.Errorf("displayName(%q, %q) = %q, want %q", tt.first, tt.last, got, tt.want)
		}
	}
}

func TestConfigNeverPrintsTheWebhook(t *testing.T) {
	c := Config{WebhookURL: "https://hooks.slack.com/services/T000/B000/SECRETSECRET", Language: "fr"}
	for _, s := range []string{c.String(), c.GoString(), c.LogValue().String()} {
		if strings.Contains(s, "SECRET") || !strings.Contains(s, "hooks.slack.com") {
			t.Errorf("config printed as %q", s)
		}
	}
}
