package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/lifecycle"
	"github.com/alertgate/alertgate/rules"
)

// Classifier decides severity and grouping for an alert, and whether its
// pages are suppressed (rules.Engine).
type Classifier interface {
	Evaluate(a *alert.Alert) rules.Decision
	// Matched is Evaluate listing the rules that matched (used once per
	// new incident, for its timeline).
	Matched(a *alert.Alert) rules.Decision
	Suppress(a *alert.Alert, d *rules.Decision, now time.Time, silences []rules.Silence, sources []rules.InhibitSource) (rules.Suppression, bool)
	// Silences are the silences of the config.
	Silences() []rules.Silence
	// CanInhibit reports whether an open incident could inhibit others.
	CanInhibit(src *rules.InhibitSource) bool
}

// Change is an incident state change that may imply work.
type Change string

// Incident changes handed to the Planner.
const (
	ChangeOpened       Change = "opened"
	ChangeAcknowledged Change = "acknowledged"
	ChangeResolved     Change = "resolved"
	// ChangeReopened: a resolved incident fired again within the reopen
	// window; its escalation starts again from the first step.
	ChangeReopened Change = "reopened"
	// ChangeFlapping: the reopen that made the incident flapping (as many
	// reopens as Flapping.Reopens within Flapping.Window): the channel is
	// told and the flapping role paged once.
	ChangeFlapping Change = "flapping"
	// ChangeFlapped: a flapping incident reopened again: the channel is
	// told, nobody is paged.
	ChangeFlapped Change = "flapped"
	// ChangeRaised: an alert raised the incident's severity.
	ChangeRaised Change = "raised"
	// ChangeUpdate: a responder posted a status update (PlanOptions.Note).
	ChangeUpdate Change = "update"
)

// PlanOptions qualify a plan.
type PlanOptions struct {
	// Base is the time escalation delays count from (the incident's
	// opening, or its reopening).
	Base time.Time
	// NotBefore holds steps due earlier back until then.
	NotBefore time.Time
	// Tag makes the keys of a re-plan distinct from earlier plans of the
	// same incident ("r2" for the second reopening, "s0" for a raise to P0).
	Tag string
	// Note is the text of a status update.
	Note string
}

// Planner turns incident changes into durable work. The router implements
// it; the store calls it inside the transaction that makes the change.
type Planner interface {
	// Deadlines returns the response and resolution targets of a severity.
	Deadlines(sev alert.Severity) (response, resolution time.Duration)
	// Plan returns the jobs a change implies.
	Plan(c Change, inc *alert.Incident, opt PlanOptions) []JobSpec
}

// Options configures a Store.
type Options struct {
	Logger     *zap.Logger
	Now        func() time.Time
	Classifier Classifier
	Planner    Planner
	// MaxBatch caps how many ingest requests share one transaction.
	MaxBatch int
	// ReopenWithin reopens a resolved incident whose group fires again
	// within this window (dedup.reopen_within); 0 never reopens.
	ReopenWithin time.Duration
	// Flapping is the hysteresis of incidents that keep reopening
	// (dedup.flapping); zero turns it off.
	Flapping Flapping
	// Policy, when set, is where the store reads its policy: a gateway
	// that switches the policy together with other components' config
	// keeps it (see Policy). Until it returns one, and when unset, the
	// store reads its own: the one Classifier, Planner, ReopenWithin and
	// Flapping make, or the last SetPolicy.
	Policy func() *Policy
	// Instance names this process in leases (default host-pid-random).
	Instance string
	// LeaseTTL is how long the periodic-work lease lasts without renewal
	// (default 15s; renewed every third of it).
	LeaseTTL time.Duration
	// SyncEvery is how often a shared store reloads what other replicas
	// may have changed: open incidents, silences, overrides (default 1s).
	SyncEvery time.Duration
	// Postgres configures the pool of a PostgreSQL store.
	Postgres PostgresOptions
	// ReevaluateEvery is how often suppressed alerts are checked for the
	// end of their suppression (maintenance windows); default 15s.
	ReevaluateEvery time.Duration
}

// Store is the durable state of the gateway.
type Store struct {
	w *sql.DB // the one writer connection
	r *sql.DB // read-only pool
	// writeTxs counts the transactions begun on the writer
	// (alertgate_store_write_transactions_total).
	writeTxs atomic.Uint64
	// stmtsRun counts the statements run in them
	// (alertgate_store_statements_total).
	stmtsRun atomic.Uint64
	d        dialect

	log *zap.Logger
	now func() time.Time
	// ownPolicy is the policy the store was opened with or SetPolicy set;
	// sharedPolicy is Options.Policy. Policy reads the one in use.
	ownPolicy    atomic.Pointer[Policy]
	sharedPolicy func() *Policy
	// runner runs a new incident's immediate steps in the group commit
	// (SetStepRunner).
	runner   atomic.Pointer[StepRunner]
	maxBatch int

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt

	// staleAt is when this process last looked for stale claims, per
	// target ("": all targets; staleLook).
	staleMu sync.Mutex
	staleAt map[string]time.Time

	// lockClass keys this schema's advisory locks (PostgreSQL).
	lockClass int32
	// shared: other processes write the same database (PostgreSQL), so
	// in-memory views are hints, and the known-keys filter is off.
	shared bool

	// instance names this process in leases; leader is whether it holds
	// the periodic-work lease.
	instance string
	leader   atomic.Bool
	leaseTTL time.Duration
	syncDone chan struct{}
	// ident is what this process runs (SetIdentity); the replica view is
	// refreshed by the sync loop.
	ident        atomic.Pointer[identity]
	replicaCount atomic.Int64
	configCount  atomic.Int64
	lastDrift    string // sync loop only
	// lastFullSync and syncedTo track the open-incident sync (sync loop).
	lastFullSync, syncedTo time.Time
	// confirms queues repeat hits to confirm (shared stores).
	confirms  chan *confirmReq
	confirmWG sync.WaitGroup

	cache *alertCache
	open  *openIncidents
	// apiSilences are the silences made through the API, not yet ended.
	apiSilences atomic.Pointer[[]rules.Silence]
	overrides   atomic.Pointer[[]Override]
	reeval      chan struct{}
	reevalDone  chan struct{}
	known       *knownKeys // nil unless this process is the only writer
	// joins are the incidents' open join notes (commit loop only).
	joins map[int64]*joinNote
	// ckpt checkpoints the WAL beside the writer (SQLite only).
	ckpt   *checkpointer
	ingest chan *ingestReq
	wake   chan struct{}
	// finish group-commits delivery results (finish.go).
	finish finisher

	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}
}

// writerCacheKiB is the writer connection's page cache. SQLite's default
// (2 MiB) is smaller than what one group-commit transaction of a storm
// dirties when Alertmanager sends groups of alerts: the writer then
// spilled pages into the WAL mid-transaction and read them back, about a
// sixth of its time per alert in the grouped benchmark. The cache fills
// only as the database grows, up to this bound.
const writerCacheKiB = 16 << 10

// OpenSQLite opens (creating if needed) the SQLite database at path, runs
// migrations and starts the group-commit writer.
func OpenSQLite(ctx context.Context, path string, opts Options) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)"
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	// The writer never checkpoints: the checkpointer does, beside it.
	w, err := sql.Open("sqlite", base+"?"+pragmas+"&_txlock=immediate"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(%d)&_pragma=cache_size(-%d)", walSizeLimit, writerCacheKiB))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r.SetMaxOpenConns(4)
	c, err := sql.Open("sqlite", base+"?"+pragmas)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	c.SetConnMaxLifetime(0)
	s := newStore(w, r, sqliteDialect, opts)
	s.ckpt = newCheckpointer(c, s.log)
	s.known = &knownKeys{m: map[uint64]struct{}{}}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		r.Close()
		c.Close()
		return nil, err
	}
	if err := errors.Join(s.loadAll(ctx), s.loadKnown(ctx), s.releaseClaims(ctx)); err != nil {
		w.Close()
		r.Close()
		c.Close()
		return nil, err
	}
	s.start(opts)
	return s, nil
}

// loadAll fills the in-memory views from the database.
func (s *Store) loadAll(ctx context.Context) error {
	return errors.Join(s.loadCache(ctx), s.loadOpenIncidents(ctx), s.loadSilences(ctx), s.loadOverrides(ctx))
}

// start runs the writer and the re-evaluation loop.
func (s *Store) start(opts Options) {
	go s.commitLoop()
	if s.ckpt != nil {
		go s.ckpt.loop()
	}
	every := opts.ReevaluateEvery
	if every <= 0 {
		every = 15 * time.Second
	}
	go s.reevaluateLoop(every)
	if !s.shared {
		s.leader.Store(true)
		s.replicaCount.Store(1)
		s.configCount.Store(1)
		close(s.syncDone)
		return
	}
	s.confirms = make(chan *confirmReq, 1024)
	s.confirmWG.Add(confirmers)
	for range confirmers {
		go s.confirmLoop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.leaseTTL/3)
	s.lead(ctx)
	cancel()
	sync := opts.SyncEvery
	if sync <= 0 {
		sync = time.Second
	}
	go s.syncLoop(sync)
}

func newStore(w, r *sql.DB, d dialect, opts Options) *Store {
	s := &Store{
		w: w, r: r, d: d,
		log:          opts.Logger,
		now:          opts.Now,
		maxBatch:     opts.MaxBatch,
		sharedPolicy: opts.Policy,
		stmts:        map[string]*sql.Stmt{},
		cache:        newAlertCache(),
		joins:        map[int64]*joinNote{},
		open:         newOpenIncidents(),
		reeval:       make(chan struct{}, 1),
		reevalDone:   make(chan struct{}),
		ingest:       make(chan *ingestReq, 1024),
		wake:         make(chan struct{}, 1),
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
		syncDone:     make(chan struct{}),
		instance:     opts.Instance,
		leaseTTL:     opts.LeaseTTL,
	}
	if s.instance == "" {
		s.instance = instanceID()
	}
	if s.leaseTTL <= 0 {
		s.leaseTTL = defaultLeaseTTL
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBatch <= 0 {
		s.maxBatch = 256
	}
	s.SetPolicy(opts.Classifier, opts.Planner, opts.ReopenWithin, opts.Flapping)
	return s
}

// Flapping is the hysteresis of incidents that keep reopening
// (dedup.flapping): lifecycle.Flapping.
type Flapping = lifecycle.Flapping

// Policy is the config-derived behaviour of the store, swapped whole on a
// config reload; a transaction uses the policy it started with.
type Policy struct {
	classifier Classifier
	planner    Planner
	// life decides join, reopen and flapping (dedup.reopen_within,
	// dedup.flapping).
	life lifecycle.Policy
}

// NewPolicy makes the policy of the rules c, the planner p, the reopen
// window and the flapping hysteresis. It changes nothing: SetPolicy, or
// the owner of Options.Policy, switches to it.
func NewPolicy(c Classifier, p Planner, reopenWithin time.Duration, flapping Flapping) *Policy {
	return &Policy{classifier: c, planner: p, life: lifecycle.Policy{ReopenWithin: reopenWithin, Flapping: flapping}}
}

// Classifier is the rules p classifies with.
func (p *Policy) Classifier() Classifier { return p.classifier }

// Policy is the policy the store reads now.
func (s *Store) Policy() *Policy {
	if s.sharedPolicy != nil {
		if p := s.sharedPolicy(); p != nil {
			return p
		}
	}
	return s.ownPolicy.Load()
}

// SetPolicy swaps the store's own policy for one of the rules, the
// planner, the reopen window and the flapping hysteresis, used for new
// changes (a config reload of a store without Options.Policy), then
// settles it (SettlePolicy).
func (s *Store) SetPolicy(c Classifier, p Planner, reopenWithin time.Duration, flapping Flapping) {
	pol := NewPolicy(c, p, reopenWithin, flapping)
	s.ownPolicy.Store(pol)
	s.SettlePolicy(pol)
}

// SettlePolicy does what a switch to p needs once p is the policy read:
// the repeat cache is cleared so that changed rules apply to repeats too
// (cleared before the switch, a repeat classified by the old rules in
// between would be remembered past it), and the open incidents'
// inhibition index is rebuilt with p's rules.
func (s *Store) SettlePolicy(p *Policy) {
	s.cache.clearHashes()
	if p.classifier != nil {
		idx, _ := p.classifier.(inhibitIndex)
		s.open.recheck(p.classifier.CanInhibit, idx)
	}
}

// Wake is signalled whenever new work may be due.
func (s *Store) Wake() <-chan struct{} { return s.wake }

func (s *Store) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Ping checks that the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Close stops the writer, failing queued ingests with ErrUnavailable, and
// closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		<-s.reevalDone
		<-s.syncDone
		s.confirmWG.Wait()
		if s.ckpt != nil {
			s.ckpt.close()
			err = s.ckpt.db.Close()
		}
		err = errors.Join(err, s.w.Close(), s.r.Close())
	})
	return err
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
