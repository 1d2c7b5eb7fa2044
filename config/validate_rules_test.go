package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateSuppression(t *testing.T) {
	cases := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"keywords", func(c *Config) {
			c.Rules = []Rule{{Name: "k", Keywords: []string{"ok", " "}}}
		}, []string{"rules[0] (k): keywords[1] is empty"}},
		{"silences", func(c *Config) {
			c.Silences = []Silence{
				{ID: "a", Matchers: []string{`x=~"("`}, StartsAt: "yesterday", EndsAt: "2026-01-01"},
				{ID: "a", Matchers: nil},
				{Matchers: []string{`a="b"`}, StartsAt: "2026-01-02T00:00:00Z", EndsAt: "2026-01-01T00:00:00Z"},
			}
		}, []string{
			"silences[0] (a): matchers[0] \"x=~\\\"(\\\"\": error parsing regexp: missing closing ): `^(?:()$`",
			`silences[0] (a): starts_at "yesterday" is not an RFC 3339 time (e.g. 2026-01-02T15:04:05Z)`,
			`silences[0] (a): ends_at "2026-01-01" is not an RFC 3339 time (e.g. 2026-01-02T15:04:05Z)`,
			"silences[1] (a): id is already used by silences[0]",
			"silences[1] (a): matchers must list at least one matcher",
			"silences[1] (a): ends_at is required",
			"silences[2]: ends_at must be after starts_at",
		}},
		{"maintenance", func(c *Config) {
			c.Maintenance = []Maintenance{
				{Name: "w", Matchers: []string{`a="b"`}, Weekdays: []string{"sunday", "caturday"}, Start: "2:00", End: "25:00", TimeZone: "Mars/Base"},
				{Name: "w", Matchers: []string{`a="b"`}, Start: "02:00", End: "02:00"},
				{Start: "22:00", End: "02:00", TimeZone: "UTC"},
			}
		}, []string{
			`maintenance[0] (w): weekday "caturday" is not a day name (e.g. monday)`,
			`maintenance[0] (w): start: time of day "2:00" is not HH:MM (e.g. 09:00)`,
			`maintenance[0] (w): end: time of day "25:00" is not HH:MM (e.g. 09:00)`,
			`maintenance[0] (w): time_zone "Mars/Base" is not an IANA time zone (e.g. UTC, Europe/Berlin)`,
			"maintenance[1] (w): name is already used by maintenance[0]",
			"maintenance[1] (w): end equals start (use 00:00 to 23:59 for a whole day)",
			`maintenance[1] (w): time_zone "" is not an IANA time zone (e.g. UTC, Europe/Berlin)`,
			"maintenance[2]: name is required",
			"maintenance[2]: matchers must list at least one matcher",
		}},
		{"inhibit", func(c *Config) {
			c.Inhibit = []InhibitRule{
				{Name: "i", SourceMatchers: []string{"nope"}, Equal: []string{""}},
			}
		}, []string{
			`inhibit[0] (i): source_matchers[0] "nope": bad matcher format: nope`,
			"inhibit[0] (i): target_matchers must list at least one matcher",
			"inhibit[0] (i): equal[0] is empty",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.change(c)
			err := c.Validate()
			require.Error(t, err)
			require.Equal(t, tc.want, messages(err))
		})
	}
}

func messages(err error) []string {
	var out []string
	for _, e := range unjoin(err) {
		out = append(out, e.Error())
	}
	return out
}

func TestValidSuppressionLoads(t *testing.T) {
	c, err := LoadBytes("alertgate.yml", []byte(`
silences:
  - { matchers: ['service="search"'], ends_at: 2026-12-01T00:00:00Z, created_by: ops, comment: reindex, expire_on_resolve: true }
maintenance:
  - { name: sunday-night, matchers: ['env="staging"'], weekdays: [sunday], start: "22:00", end: "02:00", time_zone: Europe/Berlin }
inhibit:
  - { source_matchers: ['alertname="DatacenterDown"'], target_matchers: ['priority!="P0"'], equal: [datacenter] }
`))
	require.NoError(t, err)
	require.Len(t, c.Silences, 1)
	require.True(t, c.Silences[0].ExpireOnResolve)
	require.Equal(t, "02:00", c.Maintenance[0].End)
	require.Equal(t, []string{"datacenter"}, c.Inhibit[0].Equal, "a given inhibit list replaces the default")
}

func TestSuppressionErrorsHaveLines(t *testing.T) {
	_, err := LoadBytes("alertgate.yml", []byte("maintenance:\n  - name: w\n    matchers: ['a=\"b\"']\n    start: \"02:00\"\n    end: \"04:00\"\n    time_zone: Nowhere\n"))
	require.ErrorContains(t, err, `alertgate.yml:6: maintenance[0] (w): time_zone "Nowhere" is not an IANA time zone`)
}
