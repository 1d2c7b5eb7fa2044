package config

import (
	"time"
)

// Names of the seed's escalation roles.
const (
	RoleOnCall     = "oncall"
	RoleTeamLead   = "team-lead"
	RoleEngManager = "eng-manager"
	RoleCTO        = "cto"
)

// LogTarget is the name of the built-in log target. It always exists: Load
// adds {name: log, type: log} when the file's targets don't define it, so
// roles, channels and fallbacks may name it in any config.
const LogTarget = "log"

// Stop conditions of an escalation row.
const (
	StopOnAcknowledged = "acknowledged"
	StopOnResolved     = "resolved"
)

// DefaultListen is server.listen's default: loopback only, so a gateway
// without credentials is not reachable from other hosts.
const DefaultListen = "127.0.0.1:8080"

// DefaultMaxSilenceDuration is server.max_silence_duration's default.
const DefaultMaxSilenceDuration = 30 * day

const (
	day  = 24 * time.Hour
	week = 7 * day
)

// Default returns the seed's incident response procedures as a config: the
// severity table, escalation matrix, channels and runbooks, with the
// built-in log target standing in for every integration until real ones
// are configured. Each call returns a fresh copy.
func Default() *Config {
	c := &Config{
		Server: Server{
			Listen:             DefaultListen,
			ExternalURL:        "http://localhost:8080",
			MaxBodyBytes:       1 << 20,
			AlertLimits:        AlertLimits{MaxLabels: 128, MaxLabelNameBytes: 1024, MaxLabelValueBytes: 1024, MaxAnnotationBytes: 16 << 10},
			ReadTimeout:        Duration(10 * time.Second),
			WriteTimeout:       Duration(10 * time.Second),
			IdleTimeout:        Duration(60 * time.Second),
			AckLinkTTL:         Duration(DefaultAckLinkTTL),
			MaxSilenceDuration: Duration(DefaultMaxSilenceDuration),
		},
		Log:     Log{Level: "info", Format: "json"},
		Storage: Storage{Driver: "sqlite", Path: "./data/alertgate.db"},
		Sources: []Source{
			{Name: "alertmanager", Type: "alertmanager"},
			{Name: "grafana", Type: "grafana"},
			{Name: "probes", Type: "healthcheck"},
		},
		Severities: defaultSeverities(),
		Rules:      defaultRules(),
		Dedup: Dedup{
			GroupBy:      []string{"alertname", "service"},
			ReopenWithin: Duration(10 * time.Minute),
			Flapping:     Flapping{Reopens: DefaultFlappingReopens, Window: Duration(DefaultFlappingWindow)},
		},
		Inhibit: defaultInhibit(),
		Roles: map[string]Role{
			RoleOnCall:     {Targets: []string{LogTarget}},
			RoleTeamLead:   {Targets: []string{LogTarget}},
			RoleEngManager: {Targets: []string{LogTarget}},
			RoleCTO:        {Targets: []string{LogTarget}},
		},
		Escalation:    defaultEscalation(),
		Targets:       []Target{{Name: LogTarget, Type: "log"}},
		Communication: defaultCommunication(),
		Runbooks:      defaultRunbooks(),
	}
	c.ApplyDefaults()
	return c
}

// defaultSeverities is the seed's severity table: response and resolution
// targets, update cadence, and what belongs at each level.
func defaultSeverities() Severities {
	return Severities{
		P0: SeverityLevel{
			Name:       "Critical",
			Response:   Duration(15 * time.Minute),
			Resolution: Duration(time.Hour),
			Updates:    Duration(15 * time.Minute),
			Examples: []string{
				"Complete service outage",
				"Data breach/security incident",
				"Payment system failure",
				"Authentication system down",
			},
		},
		P1: SeverityLevel{
			Name:       "High",
			Response:   Duration(30 * time.Minute),
			Resolution: Duration(4 * time.Hour),
			Updates:    Duration(30 * time.Minute),
			Examples: []string{
				"Partial service degradation",
				"Performance issues >50% users",
				"Database connectivity issues",
			},
		},
		P2: SeverityLevel{
			Name:       "Medium",
			Response:   Duration(2 * time.Hour),
			Resolution: Duration(day),
			Updates:    Duration(2 * time.Hour),
			Examples: []string{
				"Minor feature issues",
				"Performance degradation <50% users",
				"Monitoring alerts",
			},
		},
		P3: SeverityLevel{
			Name:       "Low",
			Response:   Duration(day),
			Resolution: Duration(week),
			Updates:    Duration(day),
			Examples: []string{
				"Cosmetic issues",
				"Enhancement requests",
				"Documentation updates",
			},
		},
	}
}

// defaultEscalation is the seed's escalation matrix. Responders (on-call,
// team lead) stop being paged once the incident is acknowledged;
// leadership hears about incidents still unresolved at their mark. The
// on-call page of a P0 or P1 repeats every 5 minutes until acknowledged,
// matching the seed's "Acknowledge (5min)"; P2 and P3 (2h and 24h to
// respond) page once.
func defaultEscalation() Escalation {
	at := func(d time.Duration) Cell { return Cell{Delay: d} }
	digest := func(period string) Cell { return Cell{Digest: period} }
	return Escalation{
		Matrix: []EscalationRow{
			{
				Role: RoleOnCall, StopOn: StopOnAcknowledged,
				Repeat: &Repeat{Every: Duration(5 * time.Minute), Limit: 12, Severities: DefaultRepeatSeverities()},
				P0:     at(0), P1: at(0), P2: at(2 * time.Hour), P3: at(day),
			},
			{
				Role: RoleTeamLead, StopOn: StopOnAcknowledged,
				P0: at(15 * time.Minute), P1: at(30 * time.Minute), P2: at(4 * time.Hour), P3: digest(DigestDaily),
			},
			{
				Role: RoleEngManager, StopOn: StopOnResolved,
				P0: at(30 * time.Minute), P1: at(2 * time.Hour), P2: digest(DigestDaily), P3: digest(DigestWeekly),
			},
			{
				Role: RoleCTO, StopOn: StopOnResolved,
				P0: at(time.Hour), P1: at(4 * time.Hour), P2: digest(DigestWeekly), P3: digest(DigestMonthly),
			},
		},
		Digests: Digests{TimeZone: "UTC", At: "09:00", Weekday: "monday", MonthDay: 1},
	}
}

// defaultCommunication is the seed's communication plan: #incidents for
// P0/P1, #alerts for P2/P3, and the external status page for P0/P1, which
// has no target until one is configured.
func defaultCommunication() Communication {
	return Communication{
		Channels: []Channel{
			{Name: "#incidents", Severities: []string{"P0", "P1"}, Targets: []string{LogTarget}},
			{Name: "#alerts", Severities: []string{"P2", "P3"}, Targets: []string{LogTarget}},
		},
		StatusPage: StatusPage{
			URL:        "https://status.azora.world",
			Severities: []string{"P0", "P1"},
			Targets:    []string{},
		},
	}
}

// defaultRunbooks are the seed's runbooks, one step per command.
func defaultRunbooks() []Runbook {
	return []Runbook{
		{
			Name:  "database",
			Title: "Database Issues",
			Steps: []string{
				"kubectl get pods -n database",
				"kubectl logs -f postgres-primary-0",
				`psql -h primary -c "SELECT * FROM pg_stat_replication;"`,
			},
		},
		{
			Name:  "service-outage",
			Title: "Service Outage",
			Steps: []string{
				"curl -f http://api-gateway:4000/health",
				"kubectl rollout restart deployment/api-gateway",
				"kubectl logs -f deployment/api-gateway --tail=100",
			},
		},
		{
			Name:  "performance",
			Title: "Performance Issues",
			Steps: []string{
				"kubectl top pods -n azora-services",
				"kubectl scale deployment api-gateway --replicas=5",
			},
		},
	}
}
