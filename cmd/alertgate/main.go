// Command alertgate is the alert-ingest webhook gateway and router.
//
//	alertgate serve [--config FILE]      serve (no file: the seed defaults)
//	alertgate check-config FILE...       validate config files
//	alertgate explain --config FILE A.json   how an alert is classified and escalated
//	alertgate test-rules TESTS.yml...     unit tests for the rules
//	alertgate template render --target NAME A.json   how each message reads
//	alertgate config default             print the defaults as YAML
//	alertgate version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/server"
)

// version is set at build time (-X main.version=...).
var version = "dev"

const usage = `alertgate — alert-ingest webhook gateway and router

Usage:
  alertgate serve [--config FILE] [--log-format json|console] [--log-level LEVEL]
  alertgate check-config FILE...
  alertgate explain [--config FILE] [--source NAME] [--at TIME] ALERT.json
  alertgate test-rules [--config FILE] TESTS.yml...
  alertgate template render [--config FILE] [--target NAME] [--html] PAYLOAD.json
  alertgate config default
  alertgate version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "check-config":
		return checkConfig(args[1:], stdout, stderr)
	case "explain":
		return explain(args[1:], stdout, stderr)
	case "test-rules":
		return testRules(args[1:], stdout, stderr)
	case "template":
		return templateCmd(args[1:], stdout, stderr)
	case "config":
		if len(args) == 2 && args[1] == "default" {
			b, err := config.Marshal(config.Default())
			if err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
			stdout.Write(b)
			return 0
		}
		fmt.Fprint(stderr, usage)
		return 2
	case "version", "--version":
		fmt.Fprintln(stdout, "alertgate", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return 2
}

func checkConfig(files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		fmt.Fprintln(stderr, "check-config: name at least one file")
		return 2
	}
	code := 0
	for _, f := range files {
		cfg, err := config.Load(f)
		if err == nil {
			err = server.Check(cfg) // expressions, templates and targets compile only here
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: INVALID\n", f)
			printList(stderr, err)
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: OK\n", f)
	}
	return code
}

func unwrapJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unwrapJoined(e)...)
		}
		return out
	}
	return []error{err}
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file (default: the built-in seed procedures)")
	logFormat := fs.String("log-format", "", "json or console (overrides log.format)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (overrides log.level)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			printErrors(stderr, "config "+*cfgPath, err)
			return 1
		}
	}
	if *logFormat != "" {
		cfg.Log.Format = *logFormat
	}
	if *logLevel != "" {
		cfg.Log.Level = *logLevel
	}
	log, err := newLogger(cfg.Log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	defer log.Sync()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, err := server.NewGateway(ctx, cfg, server.GatewayOptions{Logger: log, Version: version, ConfigPath: *cfgPath})
	if err != nil {
		log.Error("start", zap.Error(err))
		return 1
	}
	if err := g.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("serve", zap.Error(err))
		return 1
	}
	return 0
}

func newLogger(c config.Log) (*zap.Logger, error) {
	var zc zap.Config
	switch c.Format {
	case "", "json":
		zc = zap.NewProductionConfig()
		zc.EncoderConfig.TimeKey = "ts"
		zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	case "console":
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
	default:
		return nil, fmt.Errorf("log format %q: want json or console", c.Format)
	}
	zc.DisableStacktrace = true
	if c.Level != "" {
		lvl, err := zapcore.ParseLevel(c.Level)
		if err != nil {
			return nil, fmt.Errorf("log level: %w", err)
		}
		zc.Level = zap.NewAtomicLevelAt(lvl)
	}
	return zc.Build()
}
