package store

// The groups of a batch, read at once. An alert that opens an incident
// first asks whether its group has an open incident, then whether it
// has one resolved within the reopen look-back: two queries per new
// incident, each a round trip on PostgreSQL. prefetchGroups asks both
// for every group of the batch that may need them in one query before
// the batch is applied; openIncidentFor and latestResolved read the
// answers until the batch itself resolves an incident of the group.

import (
	"encoding/json"
	"fmt"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/lifecycle"
)

// The incidents of a list of groups: open, or resolved at or after a time.
const (
	readGroupsPostgres = `SELECT id, group_key, status, severity, resolved_at, flaps, flapping FROM incidents
WHERE group_key = ANY(?) AND (status <> 'resolved' OR resolved_at >= ?)`
	readGroupsSQLite = `SELECT id, group_key, status, severity, resolved_at, flaps, flapping FROM incidents
WHERE group_key IN (SELECT value FROM json_each(?)) AND (status <> 'resolved' OR resolved_at >= ?)`
)

// groupsNeeded lists the groups of the batch's alerts that may open (or
// reopen) an incident: firing alerts not stored in an open incident, as
// far as the batch can tell without reading (the prefetched alerts on
// PostgreSQL, the known-keys filter on SQLite: an alert stored before is
// left to the per-alert queries).
func (ap *applier) groupsNeeded(batch []*ingestReq) []string {
	var keys []string
	seen := map[string]bool{}
	for _, r := range batch {
		for i := range r.items {
			it := &r.items[i]
			if it.a.Status != alert.StatusFiring || seen[it.d.GroupKey] {
				continue
			}
			switch {
			case ap.prefetched != nil:
				if e := ap.prefetched[it.key]; e != nil && e.stored().InOpen() {
					continue
				}
			case ap.s.known != nil:
				if ap.s.known.has(it.key) {
					continue
				}
			default:
				continue
			}
			seen[it.d.GroupKey] = true
			keys = append(keys, it.d.GroupKey)
		}
	}
	return keys
}

// prefetchGroups reads the open incident and the latest incident resolved
// within the look-back of each group in keys.
func (ap *applier) prefetchGroups(keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	cutoff := int64(1<<63 - 1) // no resolved incident is wanted
	if look := ap.pol.life.LookBack(); look > 0 {
		cutoff = ms(ap.now.Add(-look))
	}
	var arg any = keys
	q := readGroupsPostgres
	if !ap.s.d.dollar {
		b, err := json.Marshal(keys)
		if err != nil {
			return fmt.Errorf("read groups: %w", err)
		}
		arg, q = string(b), readGroupsSQLite
	}
	rows, err := ap.query(ap.ctx, q, arg, cutoff)
	if err != nil {
		return fmt.Errorf("read groups: %w", err)
	}
	defer rows.Close()
	ap.groupsRead = make(map[string]bool, len(keys))
	for _, k := range keys {
		ap.groupsRead[k] = true
	}
	for rows.Next() {
		var id, resolvedAt int64
		var key, status string
		var sev, flaps, flapping int
		if err := rows.Scan(&id, &key, &status, &sev, &resolvedAt, &flaps, &flapping); err != nil {
			return fmt.Errorf("read groups: %w", err)
		}
		if alert.IncidentStatus(status) != alert.IncidentResolved {
			ap.groupOpen[key] = openRef{id: id, sev: alert.Severity(sev)}
			continue
		}
		// The latest resolution; of two at the same millisecond, the
		// later incident.
		if l := ap.latestRead[key]; l == nil || resolvedAt > ms(l.ResolvedAt) || resolvedAt == ms(l.ResolvedAt) && id > l.ID {
			if ap.latestRead == nil {
				ap.latestRead = map[string]*lifecycle.Latest{}
			}
			ap.latestRead[key] = &lifecycle.Latest{ID: id, ResolvedAt: fromMS(resolvedAt), Flaps: flaps, Flapping: flapping != 0}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read groups: %w", err)
	}
	return nil
}

// forgetGroup drops what prefetchGroups read of a group whose incident
// the batch resolved: it is read again if another alert needs it.
func (ap *applier) forgetGroup(key string) {
	delete(ap.groupOpen, key)
	delete(ap.groupsRead, key)
	delete(ap.latestRead, key)
}

// reserveOpenings takes from the incidents' sequence, in one round trip,
// an id for each group of the batch that will open a new incident
// (PostgreSQL; on SQLite an insert is a function call, not a round trip).
// Without it each new incident's INSERT … RETURNING id was a round trip of
// its own, most of an incident storm's. The count is the lifecycle's
// decision (Policy.Decide) for a firing alert that goes to its group, from
// what the batch has read: the group's open incident and the suppression,
// which is kept for openIncidentFor (the silences and the open incidents
// it reads change only after the commit). A group with an incident
// resolved within the reopen look-back is left out (deciding needs its
// recent reopens, a read): if it opens after all, its id comes from the
// INSERT as before. An id reserved and not used is a number the incident
// keys skip, as a rolled-back insert's is.
func (ap *applier) reserveOpenings(batch []*ingestReq) error {
	if !ap.s.d.pipeline || ap.prefetched == nil {
		return nil
	}
	opens := map[string]bool{}
	for _, r := range batch {
		for i := range r.items {
			it := &r.items[i]
			g := it.d.GroupKey
			if it.a.Status != alert.StatusFiring || opens[g] || !ap.groupsRead[g] {
				continue
			}
			if _, resolved := ap.latestRead[g]; resolved {
				continue
			}
			if lifecycle.Next(true, ap.prefetched[it.key].stored()) != lifecycle.StepGroup {
				continue
			}
			var latest *lifecycle.Latest
			held := false
			if ref, open := ap.groupOpen[g]; open {
				latest = &lifecycle.Latest{ID: ref.id, Open: true, Severity: ref.sev}
			} else {
				_, held = ap.suppressOnce(it)
			}
			if ap.pol.life.Decide(ap.now, it.d.Severity, latest, held).Action == lifecycle.Open {
				opens[g] = true
			}
		}
	}
	if len(opens) == 0 {
		return nil
	}
	rows, err := ap.query(ap.ctx, `SELECT nextval(pg_get_serial_sequence('incidents', 'id')) FROM generate_series(1, ?)`, len(opens))
	if err != nil {
		return fmt.Errorf("reserve incident ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("reserve incident ids: %w", err)
		}
		ap.reserved = append(ap.reserved, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reserve incident ids: %w", err)
	}
	return nil
}
