// Package migrations holds the schemas of the activities pipeline, one
// directory per migration component (see store.Migrate):
//
//   - activities: the operational table sport_activities, written by the
//     generator, the API and the Strava receiver;
//   - cdc: the state of the change-data-capture (package
//     internal/activities/cdc) and, on SQLite, the change table and the
//     triggers that fill it.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed activities cdc
var files embed.FS

// Activities returns the migrations of the sport_activities table.
func Activities() fs.FS { return sub("activities") }

// CDC returns the migrations of the change-data-capture.
func CDC() fs.FS { return sub("cdc") }

// sub returns a directory of files; fs.Sub cannot fail on these fixed,
// valid names.
func sub(dir string) fs.FS {
	f, _ := fs.Sub(files, dir)
	return f
}
