package store

import (
	"net/url"
	"testing"
)

func TestWithPrivateSchema(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u@h/db", `"$user",public,podium_private`},
		{"postgres://u@h/db?search_path=app&sslmode=disable", "app,app_private"},
		{"postgres://u@h/db?search_path=public", "public,podium_private"},
		{"postgres://u@h/db?search_path=%22My%22,public", `"My",public,My_private`},
	}
	for _, tt := range tests {
		u, err := url.Parse(withPrivateSchema(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Query().Get("search_path"); got != tt.want {
			t.Errorf("%s: search_path %q, want %q", tt.in, got, tt.want)
		}
	}
}
