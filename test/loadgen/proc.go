package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	healthTimeout = 30 * time.Second
	stopTimeout   = 5 * time.Second
	// startAttempts retries a child that exits before it is healthy: the
	// free port we picked may have been taken in between.
	startAttempts = 3
	stderrTail    = 16 << 10
)

// proc is a server child process listening on 127.0.0.1.
type proc struct {
	name   string
	addr   string
	cmd    *exec.Cmd
	stderr *tailBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, valid after done
	once   sync.Once
	// after runs once the process has stopped (helpers it used).
	after func()
}

// startProc starts the command that newArgs builds for a free address, in
// its own process group (killed with its parent on Linux), and waits for
// GET readyPath (/healthz, or a gateway's /readyz) to answer 200.
func startProc(ctx context.Context, name, bin, readyPath string, newArgs func(addr string) ([]string, error)) (*proc, error) {
	var lastErr error
	for range startAttempts {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args, err := newArgs(addr)
		if err != nil {
			return nil, err
		}
		p := &proc{name: name, addr: addr, stderr: newTailBuffer(stderrTail), done: make(chan struct{})}
		p.cmd = exec.Command(bin, args...)
		p.cmd.Stdout = p.stderr
		p.cmd.Stderr = p.stderr
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := p.cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		go func() { p.err = p.cmd.Wait(); close(p.done) }()
		err = p.waitReady(ctx, readyPath)
		if err == nil {
			return p, nil
		}
		p.stop()
		lastErr = err
		if ctx.Err() != nil || !p.exited() {
			break
		}
	}
	return nil, lastErr
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitReady polls path until it answers 200, the process exits, ctx ends
// or healthTimeout passes.
func (p *proc) waitReady(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	client := &http.Client{Timeout: 3 * time.Second}
	url := "http://" + p.addr + path
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("%s %s: %w", p.name, path, err)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before %s answered 200 (%v); its output:\n%s", p.name, path, p.err, p.stderr)
		case <-ctx.Done():
			return fmt.Errorf("%s on %s: %s not 200 after %s: %w; its output:\n%s", p.name, p.addr, path, healthTimeout, ctx.Err(), p.stderr)
		case <-tick.C:
		}
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after stopTimeout.
// It is idempotent and safe to defer.
func (p *proc) stop() {
	p.once.Do(func() {
		if p.after != nil {
			defer p.after()
		}
		pgid := -p.cmd.Process.Pid
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			<-p.done
		}
	})
}

// servers are what a startFunc starts: one server process, or the gateway
// replicas of one scenario sharing a database.
type servers struct {
	procs []*proc
	once  sync.Once
	// after runs once every process has stopped (dropping their schema).
	after func()
	// path is the ingest path when not the gateway's; api says the
	// servers take Alertmanager's POST /api/v2/alerts bodies.
	path string
	api  bool
	// rows counts the rows of the gateways' database; nil when there is
	// none.
	rows *rowCounter
	// sink is the webhook the gateways page the on-call role through;
	// nil when they do not.
	sink *pageSink
}

func one(p *proc) *servers { return &servers{procs: []*proc{p}} }

// addrs returns the processes' addresses, in start order.
func (s *servers) addrs() []string {
	out := make([]string, len(s.procs))
	for i, p := range s.procs {
		out[i] = p.addr
	}
	return out
}

// stop stops every process at once, then runs after. Idempotent.
func (s *servers) stop() {
	s.once.Do(func() {
		var wg sync.WaitGroup
		for _, p := range s.procs {
			wg.Go(p.stop)
		}
		wg.Wait()
		if s.rows != nil {
			s.rows.close()
		}
		if s.after != nil {
			s.after()
		}
	})
}

// String names the processes: "gateway on 127.0.0.1:1234 (pid 42)".
func (s *servers) String() string {
	parts := make([]string, len(s.procs))
	for i, p := range s.procs {
		parts[i] = fmt.Sprintf("%s (pid %d)", p.addr, p.cmd.Process.Pid)
	}
	name := s.procs[0].name
	if len(s.procs) > 1 {
		name = fmt.Sprintf("%d× %s", len(s.procs), name)
	}
	return name + " on " + strings.Join(parts, ", ")
}

// output returns the kept output of every process, labelled by address
// when there are several.
func (s *servers) output() string {
	if len(s.procs) == 1 {
		return s.procs[0].stderr.String()
	}
	var b strings.Builder
	for i, p := range s.procs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  %s on %s:\n%s", p.name, p.addr, p.stderr)
	}
	return b.String()
}

// rss returns the process's resident set size in bytes (VmRSS).
func (p *proc) rss() (int64, error) {
	return readRSS(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
}

// readRSS parses the VmRSS line ("VmRSS:	  12345 kB") of a status file.
func readRSS(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("rss: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("rss: %s: %w", path, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("rss: %w", err)
	}
	return 0, fmt.Errorf("rss: no VmRSS in %s", path)
}

// buildGateway compiles ./cmd/alertgate of the alertgate module (the
// test module's replacement, ../) into dir and returns the binary's path.
func buildGateway(ctx context.Context, dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build gateway: %w", err)
	}
	out, err := exec.CommandContext(ctx, goBin, "list", "-m", "-f", "{{.Dir}}", gatewayModule).Output()
	root := strings.TrimSpace(string(out))
	if err != nil || root == "" {
		return "", fmt.Errorf("build gateway: %s not found (run from the repository's test directory): %w", gatewayModule, err)
	}
	bin := filepath.Join(dir, "alertgate")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./cmd/alertgate")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/alertgate: %w\n%s", err, out)
	}
	return bin, nil
}

// gatewayModule is the module of the gateway under test.
const gatewayModule = "github.com/alertgate/alertgate"

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the kept output, indented, or "(none)".
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := bytes.TrimSpace(t.buf)
	if len(s) == 0 {
		return "    (none)"
	}
	return "    " + strings.ReplaceAll(string(s), "\n", "\n    ")
}
