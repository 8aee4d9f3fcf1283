package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/web"
)

func newHealthCmd(a *app) *cobra.Command {
	var url string
	var live bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Ask a running podium whether it is ready (or alive): for container health checks",
		Long: `Ask a running serve, worker or demo over HTTP whether it is ready (/readyz:
its bus and store answer and every stage it runs is running and committing)
or, with --live, alive (/healthz). Exit status 0 when it is, 1 otherwise,
with the reasons it gave (which engine or stage is not ready, and why).

It is what a container health check runs: podium's image has no shell and
no curl. The URL defaults to the /readyz of the HTTP address of the
configuration (--http, PODIUM_HTTP_ADDR), on localhost when it listens on
every interface.`,
		Example: `  podium health
  podium health --live
  podium health --url http://worker-1:8080/readyz --timeout 3s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				path := "/readyz"
				if live {
					path = "/healthz"
				}
				url = "http://" + dialAddr(a.cfg.HTTPAddr) + path
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			if err := web.Probe(ctx, url); err != nil {
				return err
			}
			_, err := fmt.Fprintf(a.stdout, "%s: ok\n", url)
			return err
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "the URL to ask (default: /readyz, or /healthz with --live, of the configured HTTP address)")
	cmd.Flags().BoolVar(&live, "live", false, "ask whether the process is alive (/healthz) rather than ready")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

// dialAddr turns a listening address into one to connect to: an address
// on every interface (":8080", "0.0.0.0:8080", "[::]:8080") is asked on
// localhost.
func dialAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
