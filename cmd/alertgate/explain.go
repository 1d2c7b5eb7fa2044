package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alertgate/alertgate/adapters"
	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier"
	"github.com/alertgate/alertgate/rules"
)

// loadRules loads --config (or the defaults when it is empty) and
// compiles its rules, printing every error.
func loadRules(path string, stderr io.Writer) (*config.Config, *rules.Engine, bool) {
	cfg := config.Default()
	if path != "" {
		var err error
		if cfg, err = config.Load(path, rules.CheckConfig, notifier.CheckConfig); err != nil {
			printErrors(stderr, "config "+path, err)
			return nil, nil, false
		}
	}
	eng, err := rules.New(cfg)
	if err != nil {
		printErrors(stderr, "rules", err)
		return nil, nil, false
	}
	return cfg, eng, true
}

// decodePayload decodes body as the named source, or, without a name,
// as the first configured source whose adapter accepts it.
func decodePayload(cfg *config.Config, source string, body []byte) (*config.Source, adapters.Batch, error) {
	var tried []string
	for i := range cfg.Sources {
		src := &cfg.Sources[i]
		if source != "" && src.Name != source {
			continue
		}
		d, err := adapters.New(*src)
		if err != nil {
			return nil, adapters.Batch{}, fmt.Errorf("source %q: %w", src.Name, err)
		}
		b, err := d.Decode(http.Header{}, body)
		if err == nil {
			return src, b, nil
		}
		if source != "" {
			return nil, adapters.Batch{}, fmt.Errorf("source %q (%s): %w", src.Name, src.Type, err)
		}
		tried = append(tried, fmt.Sprintf("%s (%s): %v", src.Name, src.Type, err))
	}
	if source != "" {
		return nil, adapters.Batch{}, fmt.Errorf("no source named %q in the config", source)
	}
	return nil, adapters.Batch{}, fmt.Errorf("no configured source accepts this payload:\n  %s", strings.Join(tried, "\n  "))
}

func explain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("explain", "ALERT.json", "Shows how each alert of a payload (a file, or - for stdin) is classified, whether\nthe config silences it, and its escalation plan.", stderr)
	cfgPath := fs.String("config", "", "config file (default: the built-in defaults)")
	source := fs.String("source", "", "source name the payload arrives on (default: the first that accepts it)")
	at := fs.String("at", "", "evaluation time, RFC 3339 (default: now), for silences and maintenance windows")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: alertgate explain [--config FILE] [--source NAME] [--at TIME] ALERT.json (- for stdin)")
		return 2
	}
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(stderr, "--at: %v\n", err)
			return 2
		}
		now = t
	}
	cfg, eng, ok := loadRules(*cfgPath, stderr)
	if !ok {
		return 1
	}
	var body []byte
	var err error
	if fs.Arg(0) == "-" {
		body, err = io.ReadAll(os.Stdin)
	} else {
		body, err = os.ReadFile(fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	src, batch, err := decodePayload(cfg, *source, body)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "Payload decoded as source %q (type %s): %d alert(s)", src.Name, src.Type, len(batch.Alerts))
	if batch.Truncated > 0 {
		fmt.Fprintf(stdout, ", %d more truncated by the sender", batch.Truncated)
	}
	fmt.Fprintln(stdout)
	for i := range batch.Alerts {
		a := &batch.Alerts[i]
		if a.StartsAt.IsZero() {
			a.StartsAt = now
		}
		explainAlert(stdout, cfg, eng, a, now, i+1)
	}
	return 0
}

func explainAlert(w io.Writer, cfg *config.Config, eng *rules.Engine, a *alert.Alert, now time.Time, n int) {
	fmt.Fprintf(w, "\n== Alert %d: %s\n", n, a.Title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  status\t%s\n  fingerprint\t%s\n  service\t%s\n", a.Status, a.Fingerprint, dash(a.Service))
	if a.SeverityHint != "" {
		fmt.Fprintf(tw, "  severity word\t%s\n", a.SeverityHint)
	}
	if a.Impact.Known {
		fmt.Fprintf(tw, "  affected users\t%g%%\n", a.Impact.AffectedUsersPct)
	}
	fmt.Fprintf(tw, "  labels\t%s\n", kv(a.Labels))
	if len(a.Annotations) > 0 {
		fmt.Fprintf(tw, "  annotations\t%s\n", kv(a.Annotations))
	}
	tw.Flush()

	d := eng.Explain(a)
	fmt.Fprintln(w, "\n  Rules tried:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, st := range d.Trace {
		mark := "  -"
		if st.Matched {
			mark = "  ✓"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", mark, st.Rule, st.Detail)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n  Decision: %s\n  Group key: %s\n", d.Reason(), d.GroupKey)
	if d.Runbook != "" {
		fmt.Fprintf(w, "  Runbook: %s\n", runbookLine(&d, a))
	}
	if len(d.Labels) > 0 {
		fmt.Fprintf(w, "  Labels added: %s\n", kv(d.Labels))
	}
	sup, suppressed := eng.Suppress(a, &d, now, eng.Silences(), nil)
	switch {
	case a.Status == alert.StatusResolved:
		fmt.Fprintln(w, "  Resolved: it resolves its incident's alert; nothing pages.")
		return
	case suppressed:
		fmt.Fprintf(w, "  Suppressed (%s %s): %s\n  It is recorded and pages nobody while that lasts.\n", sup.Kind, sup.ID, sup.Detail)
		return
	default:
		fmt.Fprintln(w, "  Not silenced or in a maintenance window by the config (silences made through the API")
		fmt.Fprintln(w, "  and inhibition by open incidents depend on the running gateway's state).")
	}
	plan(w, cfg, d.Severity)
}

// plan prints the escalation an incident of sev opened now would get.
func plan(w io.Writer, cfg *config.Config, sev alert.Severity) {
	lvl := cfg.Severities.Level(sev)
	fmt.Fprintf(w, "\n  Escalation plan for a new %s (%s) incident (respond within %s, resolve within %s, updates every %s):\n",
		sev, lvl.Name, lvl.Response, lvl.Resolution, lvl.Updates)
	type row struct {
		when  time.Duration
		order int
		line  string
	}
	var rows []row
	for i, r := range cfg.Escalation.Matrix {
		cell := r.Cell(sev)
		targets := strings.Join(cfg.Roles[r.Role].Targets, ", ")
		switch {
		case cell.Never:
			continue
		case cell.Digest != "":
			rows = append(rows, row{1 << 62, i, fmt.Sprintf("%s\t%s\tin the %s digest (no individual page)\t%s", cell.Digest, r.Role, cell.Digest, dash(targets))})
		default:
			when := "at once"
			if cell.Delay > 0 {
				when = "+" + config.Duration(cell.Delay).String()
			}
			what := "page, unless " + r.StopOn + " by then"
			if r.Repeat.Applies(sev) {
				what += fmt.Sprintf("; repeats every %s (at most %d more) until %s", r.Repeat.Every, r.Repeat.Limit, r.StopOn)
			}
			rows = append(rows, row{cell.Delay, i, fmt.Sprintf("%s\t%s\t%s\t%s", when, r.Role, what, dash(targets))})
		}
	}
	for i, ch := range cfg.Communication.Channels {
		if hasSev(ch.Severities, sev) {
			rows = append(rows, row{-1, i, fmt.Sprintf("at once\t%s\tannounce the incident\t%s", ch.Name, dash(strings.Join(ch.Targets, ", ")))})
		}
	}
	if sp := cfg.Communication.StatusPage; hasSev(sp.Severities, sev) {
		what := fmt.Sprintf("open a public incident (%s)", sp.URL)
		if len(sp.Targets) == 0 {
			what = "nothing is sent: no status page target (communication.status_page.targets)"
		}
		rows = append(rows, row{-1, 100, fmt.Sprintf("at once\tstatus page\t%s\t%s", what, dash(strings.Join(sp.Targets, ", ")))})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].when != rows[j].when {
			return rows[i].when < rows[j].when
		}
		return rows[i].order < rows[j].order
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "    WHEN\tWHO\tWHAT\tTARGETS")
	for _, r := range rows {
		fmt.Fprintf(tw, "    %s\n", r.line)
	}
	tw.Flush()
}

// runbookLine says which runbook the incident gets.
func runbookLine(d *rules.Decision, a *alert.Alert) string {
	switch {
	case a.Annotations[rules.RunbookAnnotation] == d.Runbook:
		return d.Runbook + " (the alert's own runbook_url annotation)"
	case d.RunbookURL != "":
		return d.Runbook + " " + d.RunbookURL
	}
	return d.Runbook
}

func hasSev(list []string, sev alert.Severity) bool {
	for _, s := range list {
		if v, err := alert.ParseSeverity(s); err == nil && v == sev {
			return true
		}
	}
	return false
}

func kv(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func dash(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func testRules(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("test-rules", "TESTS.yml...", "Runs rule unit tests: input alerts or payloads and the expected outcome.", stderr)
	cfgPath := fs.String("config", "", "config file whose rules are tested (default: the built-in defaults)")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: alertgate test-rules [--config FILE] TESTS.yml...")
		return 2
	}
	cfg, eng, ok := loadRules(*cfgPath, stderr)
	if !ok {
		return 1
	}
	decode := func(source string, payload []byte) ([]alert.Alert, error) {
		_, b, err := decodePayload(cfg, source, payload)
		return b.Alerts, err
	}
	failed, total := 0, 0
	for _, f := range fs.Args() {
		tf, err := rules.LoadTests(f)
		if err != nil {
			printErrors(stderr, f, err)
			failed++
			continue
		}
		fmt.Fprintf(stdout, "%s\n", f)
		for _, r := range rules.RunTests(eng, tf, decode) {
			total++
			if r.Pass {
				fmt.Fprintf(stdout, "  PASS  %s\n", r.Name)
				continue
			}
			failed++
			fmt.Fprintf(stdout, "  FAIL  %s\n", r.Name)
			for _, line := range strings.Split(strings.TrimRight(r.Diff, "\n"), "\n") {
				fmt.Fprintf(stdout, "          %s\n", line)
			}
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", total-min(failed, total), failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// printErrors says what is invalid and lists every error, one a line.
func printErrors(w io.Writer, what string, err error) {
	fmt.Fprintf(w, "%s is invalid:\n", what)
	printList(w, err)
}

func printList(w io.Writer, err error) {
	for _, e := range unwrapJoined(err) {
		fmt.Fprintf(w, "  %v\n", e)
	}
}
