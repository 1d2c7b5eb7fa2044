package webhook

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTicketRef(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"jira", `{"id":"10001","key":"OPS-123","self":"https://jira/rest/api/2/issue/10001"}`, "OPS-123"},
		{"github", `{"number":42,"html_url":"https://github.com/acme/ops/issues/42","url":"https://api.github.com/repos/acme/ops/issues/42"}`, "42 https://github.com/acme/ops/issues/42"},
		{"id and url", `{"id":"T-9","url":"https://tickets/T-9"}`, "T-9 https://tickets/T-9"},
		{"url only", `{"url":"https://tickets/T-9"}`, "https://tickets/T-9"},
		{"not json", `ok`, ""},
		{"no reference", `{"status":"created"}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, TicketRef([]byte(tc.body)))
		})
	}
}
