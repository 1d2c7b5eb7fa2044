package server

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/adapters"
	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

// Ingester durably records a batch of alerts. It returns only after the
// commit; store.ErrUnavailable means "retry later".
type Ingester interface {
	Ingest(ctx context.Context, alerts []alert.Alert) (store.IngestResult, error)
}

// Incidents reads incidents for the API.
type Incidents interface {
	ListIncidents(ctx context.Context, f store.IncidentFilter) ([]alert.Incident, error)
	GetIncident(ctx context.Context, id int64) (*store.IncidentDetail, error)
}

// Actions changes incidents on behalf of a responder.
type Actions interface {
	Acknowledge(ctx context.Context, id int64, actor, note string) (*alert.Incident, error)
	Resolve(ctx context.Context, id int64, actor, note string) (*alert.Incident, error)
}

// Updater records status updates (POST /api/v1/incidents/{id}/updates).
type Updater interface {
	PostUpdate(ctx context.Context, id int64, actor, text string) (*alert.Incident, error)
}

// Silences manages silences and lists what they suppress.
type Silences interface {
	ListSilences(ctx context.Context) ([]store.Silence, error)
	CreateSilence(ctx context.Context, c config.Silence) (*store.Silence, error)
	ExpireSilence(ctx context.Context, id string) error
	SuppressedAlerts(ctx context.Context, limit int) ([]store.StoredAlert, error)
}

// Replicas lists the gateway processes on the database.
type Replicas interface {
	Replicas(ctx context.Context) ([]store.Replica, error)
}

// Pinger reports whether the storage can serve; /readyz calls it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// AckLinkVerifier checks the token of a one-click link and returns the
// incident and action ("ack" or "resolve") it grants; router.AckLinks
// satisfies it. Errors wrap router.ErrLinkExpired for an authentic but
// expired token; any other error means the link is not valid.
type AckLinkVerifier interface {
	Verify(token string) (incidentID int64, action string, err error)
}

// Mounter registers routes of its own on the app (the web console).
type Mounter interface {
	Register(r fiber.Router)
}

// Decoder turns one request body of a source into alerts. The
// adapters package's decoders satisfy it.
type Decoder interface {
	Decode(h adapters.Header, body []byte) (adapters.Batch, error)
}

// Deps are the server's collaborators. Ingester, Incidents and Actions
// are required; the rest have defaults.
type Deps struct {
	Ingester  Ingester
	Incidents Incidents
	Actions   Actions
	// Replicas backs GET /api/v1/replicas; without it that route answers 404.
	Replicas Replicas
	// Pinger backs /readyz; without it the server is ready while it serves.
	Pinger Pinger
	// Silences backs the silence API; without it those routes answer 404.
	Silences Silences
	// Updater backs status updates; without it that route answers 404.
	Updater Updater
	// Deliveries backs the dead-letter API.
	Deliveries Deliveries
	// OnCall and Overrides back /api/v1/oncall; both or neither.
	OnCall    OnCall
	Overrides OverrideStore
	// PagerDutySecrets are the signing secrets of PagerDuty webhook (v3)
	// subscriptions; with none, POST /api/v1/webhooks/pagerduty refuses
	// every request.
	PagerDutySecrets [][]byte
	// WebhookEvents remembers applied PagerDuty event ids (replay
	// protection); default this process's memory.
	WebhookEvents WebhookEvents
	// AckLinks backs the one-click links GET and POST /ack/{token};
	// without it those routes answer 404.
	AckLinks AckLinkVerifier
	// Severity backs POST /api/v1/incidents/{id}/severity; without it
	// that route answers 404.
	Severity SeveritySetter
	// Plan backs GET /api/v1/incidents/{id}/plan; without it that route
	// answers 404.
	Plan PlanFunc
	// Console is the web console, mounted at / (see package console);
	// without it / answers 404.
	Console Mounter
	// Sources, when set, is where the server reads its source table: a
	// gateway that switches the sources together with other components'
	// config keeps it (see Sources). Until it returns one, and when
	// unset, the server reads its own: the one New built, or the last
	// UseSources.
	Sources func() *Sources
	// NewDecoder builds a source's decoder; default adapters.New.
	NewDecoder func(config.Source) (Decoder, error)
	// Logger is used as given (the caller names it); default no-op.
	Logger *zap.Logger
	// Registry receives the server's metrics and is served on /metrics;
	// default a private registry.
	Registry *prometheus.Registry
	// Now is the clock (HMAC timestamps, durations); default time.Now.
	Now func() time.Time
	// Reload re-reads the config file (POST /-/reload); nil disables the
	// endpoint.
	Reload func(ctx context.Context) error
	// Runbooks looks up a configured runbook by name for post-mortem
	// drafts; nil, or a nil answer, leaves the runbook out.
	Runbooks func(name string) *config.Runbook
}

func newAdapterDecoder(src config.Source) (Decoder, error) {
	d, err := adapters.New(src)
	if err != nil {
		return nil, err
	}
	return d, nil
}
