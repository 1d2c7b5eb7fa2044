// Command alertgate is the alert-ingest webhook gateway and router.
//
//	alertgate serve [--config FILE]      serve (no file: the seed defaults)
//	alertgate check-config FILE...       validate config files, print the effective config
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
	"strings"
	"syscall"
	"text/tabwriter"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier"
	"github.com/alertgate/alertgate/rules"
	"github.com/alertgate/alertgate/server"
)

// version is set at build time (-X main.version=...).
var version = "dev"

const usage = `alertgate — alert-ingest webhook gateway and router

Usage:
  alertgate serve [--config FILE] [--listen ADDR] [--log-format json|console] [--log-level LEVEL]
  alertgate check-config FILE...
  alertgate explain [--config FILE] [--source NAME] [--at TIME] ALERT.json
  alertgate test-rules [--config FILE] TESTS.yml...
  alertgate template render [--config FILE] [--target NAME] [--html] PAYLOAD.json
  alertgate config default
  alertgate version

Every command takes --help.
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
		return serve(args[1:], stdout, stderr)
	case "check-config":
		return checkConfig(args[1:], stdout, stderr)
	case "explain":
		return explain(args[1:], stdout, stderr)
	case "test-rules":
		return testRules(args[1:], stdout, stderr)
	case "template":
		return templateCmd(args[1:], stdout, stderr)
	case "config":
		if len(args) == 2 && isHelp(args[1]) || len(args) == 3 && args[1] == "default" && isHelp(args[2]) {
			fmt.Fprint(stdout, "usage: alertgate config default\n\nPrints the built-in defaults as YAML.\n")
			return 0
		}
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
		if len(args) > 1 && !isHelp(args[1]) {
			fmt.Fprint(stderr, usage)
			return 2
		}
		fmt.Fprintln(stdout, "alertgate", version)
		return 0
	case "help", "-h", "--help":
		// help COMMAND is COMMAND --help.
		if len(args) == 2 && args[0] == "help" && args[1] != "help" && !isHelp(args[1]) {
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return 2
}

func checkConfig(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check-config", "FILE...", "Validates config files: every error with file:line, or OK and the effective\nsources, roles, targets, runbooks and rules.", stderr)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	files := fs.Args()
	if len(files) == 0 {
		fmt.Fprintln(stderr, "check-config: name at least one file")
		fs.Usage()
		return 2
	}
	code := 0
	for _, f := range files {
		cfg, err := config.Load(f, rules.CheckConfig, notifier.CheckConfig)
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
		summary(stdout, cfg)
	}
	return code
}

// summary prints what a config amounts to after it combined with the
// defaults, so that nothing changes silently: the sources, roles,
// targets, runbooks and how many rules of each origin.
func summary(w io.Writer, cfg *config.Config) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var parts []string
	for _, s := range cfg.Sources {
		parts = append(parts, fmt.Sprintf("%s (%s)", s.Name, s.Type))
	}
	fmt.Fprintf(tw, "  sources\t%s\n", dash(strings.Join(parts, ", ")))
	roles := cfg.RoleNames() // escalation order
	parts = parts[:0]
	for _, name := range roles {
		r := cfg.Roles[name]
		who := strings.Join(r.Targets, ", ")
		if r.Rotation != nil {
			who = fmt.Sprintf("rotation of %d", len(r.Rotation.Members))
			if len(r.Targets) > 0 {
				who += ", else " + strings.Join(r.Targets, ", ")
			}
		}
		parts = append(parts, fmt.Sprintf("%s → %s", name, dash(who)))
	}
	fmt.Fprintf(tw, "  roles\t%s\n", dash(strings.Join(parts, "; ")))
	parts = parts[:0]
	for _, t := range cfg.Targets {
		parts = append(parts, fmt.Sprintf("%s (%s)", t.Name, t.Type))
	}
	fmt.Fprintf(tw, "  targets\t%s\n", dash(strings.Join(parts, ", ")))
	parts = parts[:0]
	for _, r := range cfg.Runbooks {
		parts = append(parts, r.Name)
	}
	fmt.Fprintf(tw, "  runbooks\t%s\n", dash(strings.Join(parts, ", ")))
	def := cfg.DefaultRuleCount()
	rulesLine := fmt.Sprintf("%d: %d of the file, then %d default rules", len(cfg.Rules), len(cfg.Rules)-def, def)
	if cfg.DefaultRules != nil && !*cfg.DefaultRules {
		rulesLine = fmt.Sprintf("%d, the file's only (default_rules: false)", len(cfg.Rules))
	}
	fmt.Fprintf(tw, "  rules\t%s\n", rulesLine)
	tw.Flush()
}

// newFlagSet returns a flag set for a subcommand whose usage (on -h and
// --help, to stdout) names its arguments and says what it does; errors go
// to stderr.
func newFlagSet(name, params, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: alertgate %s [flags] %s\n\n%s\n", name, params, about)
		var n int
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args. When it returns ok false the command ends with
// code: 0 after -h or --help (usage printed to stdout), 2 after a bad
// flag (the error and usage printed to stderr).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (code int, ok bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if isHelp(a) {
			out := fs.Output()
			fs.SetOutput(stdout)
			fs.Usage()
			fs.SetOutput(out)
			return 0, false
		}
	}
	if err := fs.Parse(args); err != nil {
		return 2, false
	}
	return 0, true
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

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

func serve(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "", "Serves the gateway (no --config: the built-in seed procedures).", stderr)
	cfgPath := fs.String("config", "", "config file (default: the built-in seed procedures)")
	logFormat := fs.String("log-format", "", "json or console (overrides log.format)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (overrides log.level)")
	listen := fs.String("listen", os.Getenv("ALERTGATE_LISTEN"), "address to serve on (overrides server.listen; default $ALERTGATE_LISTEN)")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "serve takes no arguments (got %q); the config file is --config FILE\n", fs.Arg(0))
		return 2
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath, rules.CheckConfig, notifier.CheckConfig); err != nil {
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
	if *listen != "" {
		cfg.Server.Listen = *listen
		if err := cfg.Exposure(); err != nil {
			printErrors(stderr, "--listen "+*listen, err)
			return 1
		}
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
