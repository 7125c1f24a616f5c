// Command soomcare is the 숨케어 platform's one binary: API server, CDC worker,
// index and schema tooling. Run `soomcare --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/soomcare/soomcare/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}
