package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/router/notifier"
	"github.com/alertgate/alertgate/router/template"
	"github.com/alertgate/alertgate/rules"
)

const templateUsage = "usage: alertgate template render [--config FILE] [--target NAME] [--source NAME] [--at TIME] [--html] PAYLOAD.json (- for stdin)"

// templateCmd runs `alertgate template render`: what each kind of message
// would look like, through a target's templates, for the incident a
// payload would open.
func templateCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(stdout, templateUsage)
		return 0
	}
	if len(args) == 0 || args[0] != "render" {
		fmt.Fprintln(stderr, templateUsage)
		return 2
	}
	fs := newFlagSet("template render", "PAYLOAD.json (- for stdin)",
		"Prints what each kind of message would look like, through a target's templates,\nfor the incident the payload would open.", stderr)
	cfgPath := fs.String("config", "", "config file (default: the built-in defaults)")
	targetName := fs.String("target", "log", "target whose templates render the messages")
	source := fs.String("source", "", "source name the payload arrives on (default: the first that accepts it)")
	at := fs.String("at", "", "when the incident opens, RFC 3339 (default: the latest startsAt of the payload, else now)")
	withHTML := fs.Bool("html", false, "print the HTML part of e-mail targets too")
	if code, ok := parseFlags(fs, args[1:], stdout); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, templateUsage)
		return 2
	}
	cfg, eng, ok := loadRules(*cfgPath, stderr)
	if !ok {
		return 1
	}
	tc, ok := findTarget(cfg, *targetName)
	if !ok {
		fmt.Fprintf(stderr, "no target named %q in the config\n", *targetName)
		return 1
	}
	set, err := notifier.Default.TemplateSet(cfg) // the types' own defaults too
	if err == nil {
		var tg *template.Target
		if tg, err = set.Target(tc); err == nil {
			return renderPayload(fs.Arg(0), *source, *at, *withHTML, cfg, eng.Evaluate, tg, tc, stdout, stderr)
		}
	}
	printErrors(stderr, "templates of target "+tc.Name, err)
	return 1
}

// classifier decides an alert's severity, category and runbook
// (rules.Engine.Evaluate).
type classifier func(a *alert.Alert) rules.Decision

func renderPayload(path, source, at string, withHTML bool, cfg *config.Config, classify classifier, tg *template.Target, tc config.Target, stdout, stderr io.Writer) int {
	var body []byte
	var err error
	if path == "-" {
		body, err = io.ReadAll(os.Stdin)
	} else {
		body, err = os.ReadFile(path)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	_, batch, err := decodePayload(cfg, source, body)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if len(batch.Alerts) == 0 {
		fmt.Fprintln(stderr, "the payload holds no alert")
		return 1
	}
	opened := time.Now().UTC()
	if at != "" {
		if opened, err = time.Parse(time.RFC3339, at); err != nil {
			fmt.Fprintf(stderr, "--at: %v\n", err)
			return 2
		}
	} else {
		// The incident as it stands once every alert of the payload has
		// joined: opened at the latest start.
		var last time.Time
		for _, a := range batch.Alerts {
			if a.StartsAt.After(last) {
				last = a.StartsAt
			}
		}
		if !last.IsZero() {
			opened = last
		}
	}
	a := batch.Alerts[0]
	d := classify(&a)
	inc := alert.Incident{ID: 1, Key: "INC-1", Severity: d.Severity, Title: a.Title, Service: a.Service,
		Category: d.Category, Runbook: d.Runbook, GroupKey: d.GroupKey, Source: a.Source, OpenedAt: opened}
	if inc.Title == "" {
		inc.Title = a.Fingerprint
	}
	fmt.Fprintf(stdout, "Target %s (%s); the incident: %s %s, %d alert(s)\n", tc.Name, tc.Type, inc.Severity, inc.Title, len(batch.Alerts))
	for _, m := range router.Preview(cfg, inc, batch.Alerts) {
		r, err := tg.Render(m)
		if err != nil {
			fmt.Fprintf(stderr, "%s %s: %v\n", m.Kind, m.Step, err)
			return 1
		}
		fmt.Fprintf(stdout, "\n── %s %s (%s) at %s %s\n", m.Kind, m.Step, m.StepType, m.At.Format(time.RFC3339), strings.Repeat("─", 20))
		fmt.Fprintf(stdout, "Title: %s\n\n%s\n", r.Title, r.Text)
		if withHTML && r.HTML != "" {
			fmt.Fprintf(stdout, "\nHTML:\n%s", r.HTML)
		}
	}
	return 0
}

func findTarget(cfg *config.Config, name string) (config.Target, bool) {
	for _, t := range cfg.Targets {
		if t.Name == name {
			return t, true
		}
	}
	if name == "log" {
		return config.Target{Name: "log", Type: "log"}, true // always exists
	}
	return config.Target{}, false
}
