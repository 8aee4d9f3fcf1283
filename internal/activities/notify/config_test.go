package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/config"
)

func TestSettings(t *testing.T) {
	config.Register(Settings()...)
	env := map[string]string{
		"PODIUM_NOTIFY_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0001/B0001/sEcReT",
		"PODIUM_NOTIFY_LANGUAGE":          "en",
	}
	cfg, err := config.Load(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	c := FromConfig(cfg, nil)
	if c.WebhookURL != env["PODIUM_NOTIFY_SLACK_WEBHOOK_URL"] || c.Language != "en" || c.LiveWindow != 6*time.Hour {
		t.Errorf("FromConfig = %+v", c)
	}
	if masked := cfg.Masked().String(); strings.Contains(masked, "sEcReT") {
		t.Errorf("the masked configuration shows the webhook:\n%s", masked)
	}
	env["PODIUM_NOTIFY_SLACK_WEBHOOK_URL"] = "not a url"
	if _, err := config.Load(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err == nil ||
		strings.Contains(err.Error(), "not a url") {
		t.Errorf("an invalid webhook: err %v (must fail without quoting it)", err)
	}
}
