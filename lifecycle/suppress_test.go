package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/rules"
)

var (
	silenced  = rules.Suppression{Kind: rules.KindSilence, ID: "s-1"}
	inhibited = rules.Suppression{Kind: rules.KindInhibited, ID: "INC-4", IncidentID: 4}
	window    = rules.Suppression{Kind: rules.KindMaintenance, ID: "db-upgrade"}
)

func TestTag(t *testing.T) {
	require.Equal(t, "silence:s-1", Tag(silenced))
	require.Equal(t, "inhibited:INC-4", Tag(inhibited))
	require.Equal(t, "maintenance:db-upgrade", Tag(window))
	for _, sup := range []rules.Suppression{silenced, inhibited, window} {
		kind, id := SplitTag(Tag(sup))
		require.Equal(t, sup.Kind, kind)
		require.Equal(t, sup.ID, id)
	}
}

func TestRecordSuppression(t *testing.T) {
	cases := []struct {
		name string
		prev string
		sup  rules.Suppression
		want Suppressing
	}{
		{"newly silenced", "", silenced, Suppressing{New: true}},
		{"silenced again by the same silence", "silence:s-1", silenced, Suppressing{}},
		{"silenced by another silence", "silence:s-0", silenced, Suppressing{New: true}},
		{"newly inhibited: the inhibitor's timeline is told", "", inhibited, Suppressing{New: true, Inhibitor: 4}},
		{"inhibited again by the same incident", "inhibited:INC-4", inhibited, Suppressing{}},
		{"inhibited, was silenced", "silence:s-1", inhibited, Suppressing{New: true, Inhibitor: 4}},
		{"inhibitor without an id is not told", "", rules.Suppression{Kind: rules.KindInhibited, ID: "INC-?"}, Suppressing{New: true}},
		{"maintenance window", "", window, Suppressing{New: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, RecordSuppression(c.prev, c.sup))
		})
	}
}

func TestReleases(t *testing.T) {
	cases := []struct {
		name       string
		tag        string
		sup        rules.Suppression
		suppressed bool
		want       bool
	}{
		{"still suppressed for the same reason", "silence:s-1", silenced, true, false},
		{"no longer suppressed", "silence:s-1", rules.Suppression{}, false, true},
		{"suppressed for another reason", "silence:s-1", inhibited, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, Releases(c.tag, c.sup, c.suppressed))
		})
	}
}

func TestExpiringSilence(t *testing.T) {
	cases := []struct {
		tag    string
		wantID string
		wantOK bool
	}{
		{"silence:s-1", "s-1", true},
		{"inhibited:INC-4", "", false},
		{"maintenance:db-upgrade", "", false},
	}
	for _, c := range cases {
		t.Run(c.tag, func(t *testing.T) {
			id, ok := ExpiringSilence(c.tag)
			require.Equal(t, c.wantOK, ok)
			require.Equal(t, c.wantID, id)
		})
	}
	require.True(t, EndsSilence(0))
	require.False(t, EndsSilence(1))
}
