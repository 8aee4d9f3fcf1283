package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time, each optional:
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=$(git rev-parse HEAD) -X main.date=$(date -u +%FT%TZ)" ./cmd/podium
//
// Otherwise they come from the build info: the module version (go install
// ...@v1.2.0) and the VCS stamp (vcs.revision, vcs.time, vcs.modified).
var (
	version = ""
	commit  = ""
	date    = ""
)

// versionInfo describes the podium binary.
type versionInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Date     string `json:"date,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// buildVersion reads the build info, then applies the -ldflags overrides.
func buildVersion() versionInfo {
	v := versionInfo{Version: "devel", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			v.Go = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.time":
				v.Date = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		v.Version = version
	}
	if commit != "" {
		v.Commit = commit
	}
	if date != "" {
		v.Date = date
	}
	return v
}

func newVersionCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print podium's version, commit, build date and Go version",
		Long: `Print the version of this podium binary: its release version, the commit it
was built from (and whether the tree had uncommitted changes), the build date,
the Go version and the platform. Release builds set these with -ldflags;
other builds take them from the Go build information.`,
		Example: `  podium version
  podium version --json | jq -r .commit`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{skipConfigAnnotation: "true"},
		RunE: func(*cobra.Command, []string) error {
			v := buildVersion()
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			commit := v.Commit
			if commit == "" {
				commit = "unknown"
			}
			if v.Modified {
				commit += " (modified)"
			}
			d := v.Date
			if d == "" {
				d = "unknown"
			}
			_, err := fmt.Fprintf(a.stdout, "podium %s\ncommit:   %s\ndate:     %s\ngo:       %s\nplatform: %s\n",
				v.Version, commit, d, v.Go, v.Platform)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
