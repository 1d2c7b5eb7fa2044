package store

// The request side of ingest: Ingest validates and classifies a request's
// alerts, answers unchanged repeats from memory and hands the rest to the
// group-commit writer (commit.go), which applies them (apply.go).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/rules"
)

type item struct {
	a    alert.Alert
	d    rules.Decision
	hash uint64
	key  alertKey
	// data is the alert's JSON, encoded by the request's goroutine so the
	// single writer doesn't have to.
	data string
	// sup is set when the alert would open an incident but is suppressed.
	sup *rules.Suppression
	// reevaluate marks a suppressed alert submitted again by the sweep.
	reevaluate bool
	// stamped: the sender gave no starts_at (probes), so the gateway's
	// clock did; a later message of the same firing keeps the stored one.
	stamped bool
}

// Ingest stores a request's alerts: unchanged repeats of firing alerts are
// answered from memory; everything else is classified and written in the
// next group-commit transaction. It returns after that transaction
// committed, so a nil error means the alerts are durable.
func (s *Store) Ingest(ctx context.Context, alerts []alert.Alert) (IngestResult, error) {
	res := IngestResult{Alerts: len(alerts)}
	pol := s.Policy()
	if pol.classifier == nil || pol.planner == nil {
		return res, errors.New("ingest: no rules or planner configured")
	}
	now := s.now()
	incs := make(map[int64]struct{}, 1)
	items := make([]item, 0, len(alerts))
	var hits []hit
	for i := range alerts {
		a := alerts[i]
		if !a.Status.Valid() {
			return res, fmt.Errorf("ingest: alert %d: invalid status %q", i, a.Status)
		}
		if err := checkText(i, &a); err != nil {
			return res, err
		}
		if a.Fingerprint == "" {
			a.Fingerprint = alert.FingerprintLabels(a.Labels)
		}
		// Hash the alert as received: a sender that omits startsAt repeats
		// the same content, which must not look changed.
		h := contentHash(&a)
		stamped := a.StartsAt.IsZero()
		if stamped {
			a.StartsAt = now
		}
		if a.Status == alert.StatusResolved && a.EndsAt.IsZero() {
			a.EndsAt = now // on the same clock as the starts_at stamped above
		}
		k := alertKey{a.Source, a.Fingerprint}
		if a.Status == alert.StatusFiring {
			if inc, ok := s.cache.unchanged(k, h); ok {
				if s.shared {
					hits = append(hits, hit{a: a, hash: h, key: k, incident: inc, stamped: stamped})
					continue
				}
				res.Unchanged++
				incs[inc] = struct{}{}
				continue
			}
		}
		it, err := newItem(pol, a, h, k, stamped)
		if err != nil {
			return res, err
		}
		items = append(items, it)
	}
	if len(hits) > 0 {
		// Another replica may have changed these alerts: confirm first.
		ok, err := s.validateHits(ctx, hits)
		if err != nil {
			return res, err
		}
		for i, h := range hits {
			if ok[i] {
				res.Unchanged++
				incs[h.incident] = struct{}{}
				continue
			}
			it, err := newItem(pol, h.a, h.hash, h.key, h.stamped)
			if err != nil {
				return res, err
			}
			items = append(items, it)
		}
	}
	if len(items) > 0 {
		ids, err := s.submit(ctx, items)
		if err != nil {
			return res, err
		}
		for _, id := range ids {
			incs[id] = struct{}{}
		}
	}
	ids := make([]int64, 0, len(incs))
	for id := range incs {
		if id <= 0 {
			res.Suppressed++
			continue
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		res.Incidents = append(res.Incidents, alert.IncidentKey(id))
	}
	return res, nil
}

func newItem(pol *Policy, a alert.Alert, h uint64, k alertKey, stamped bool) (item, error) {
	data, err := alertData(&a)
	if err != nil {
		return item{}, err
	}
	return item{a: a, d: pol.classifier.Evaluate(&a), hash: h, key: k, data: data, stamped: stamped}, nil
}

// asStored makes a the alert its stored data decodes to, so that what the
// batch keeps in memory for a new incident's opening steps (remember;
// Tx.Alerts, Tx.Suppression) is what a read of the row gives: times as RFC 3339 reads them back (the offset's zone,
// no monotonic reading), empty maps as none (they are not encoded). Its
// text is valid UTF-8 (the adapters' normalization; checkText refuses
// the rest), which JSON carries as it is.
func asStored(a *alert.Alert) {
	a.StartsAt, a.EndsAt = timeAsStored(a.StartsAt), timeAsStored(a.EndsAt)
	if len(a.Labels) == 0 {
		a.Labels = nil
	}
	if len(a.Annotations) == 0 {
		a.Annotations = nil
	}
}

func timeAsStored(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	back, err := time.Parse(time.RFC3339Nano, t.Format(time.RFC3339Nano))
	if err != nil {
		return t // not encodable: alertData refused it already
	}
	return back
}

// submit hands items to the group-commit writer and waits for the commit.
// If it gives up waiting, the transaction may still commit; the sender
// retries and the retry is a harmless repeat.
func (s *Store) submit(ctx context.Context, items []item) ([]int64, error) {
	req := &ingestReq{items: items, res: make(chan ingestRes, 1)}
	r, err := handOff(ctx, s.stop, s.ingest, req, req.res)
	if err != nil {
		return nil, err
	}
	return r.incidents, r.err
}

func alertData(a *alert.Alert) (string, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("encode alert: %w", err)
	}
	return string(b), nil
}
