package store

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertgate/alertgate/alert"
)

var incidentsOpenDesc = prometheus.NewDesc("alertgate_incidents_open",
	"Open incidents by severity (P0..P3) and status (triggered, acknowledged).",
	[]string{"severity", "status"}, nil)

// IncidentsCollector exports the open incidents by severity and status
// as alertgate_incidents_open, counted on scrape (one indexed COUNT on a
// reader). Every severity is exported in both open statuses, with 0 when
// there is none, so the series exist from the start.
func (s *Store) IncidentsCollector() prometheus.Collector { return incidentsCollector{s} }

type incidentsCollector struct{ s *Store }

func (c incidentsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- incidentsOpenDesc }

func (c incidentsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.s.openIncidentCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(incidentsOpenDesc, err)
		return
	}
	for _, sev := range alert.Severities {
		for _, st := range []alert.IncidentStatus{alert.IncidentTriggered, alert.IncidentAcknowledged} {
			ch <- prometheus.MustNewConstMetric(incidentsOpenDesc, prometheus.GaugeValue,
				counts[sev][st], sev.String(), string(st))
		}
	}
}

// openIncidentCounts counts the incidents not resolved by severity and
// status.
func (s *Store) openIncidentCounts(ctx context.Context) (map[alert.Severity]map[alert.IncidentStatus]float64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT severity, status, COUNT(*) FROM incidents WHERE status <> 'resolved' GROUP BY severity, status`)
	if err != nil {
		return nil, fmt.Errorf("count open incidents: %w", err)
	}
	defer rows.Close()
	out := map[alert.Severity]map[alert.IncidentStatus]float64{}
	for rows.Next() {
		var sev int
		var st string
		var n float64
		if err := rows.Scan(&sev, &st, &n); err != nil {
			return nil, fmt.Errorf("count open incidents: %w", err)
		}
		s := alert.Severity(sev)
		if out[s] == nil {
			out[s] = map[alert.IncidentStatus]float64{}
		}
		out[s][alert.IncidentStatus(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count open incidents: %w", err)
	}
	return out, nil
}
