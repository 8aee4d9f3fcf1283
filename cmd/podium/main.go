// Command podium streams sports data: the F1 live championship and employee
// sport activities, on one streaming platform. Run `podium --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := newApp(os.Stdout, os.Stderr, os.LookupEnv)
	a.setDefaultLogger = true
	code := a.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
