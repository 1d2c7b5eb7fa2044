package notify_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/router/notify"
)

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"fits", "héllo", 5, "héllo"},
		{"cut by runes, not bytes", "éééééé", 4, "ééé…"},
		{"one rune left is the ellipsis", "abc", 1, "…"},
		{"zero", "abc", 0, ""},
		{"negative", "abc", -3, ""},
		{"empty", "", 3, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, notify.Truncate(c.in, c.n))
		})
	}
}
