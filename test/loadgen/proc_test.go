package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadRSS(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    int64
		wantErr string
	}{
		{name: "kB", status: "Name:\talertgate\nVmPeak:\t  99999 kB\nVmRSS:\t   12345 kB\nRssAnon:\t 1 kB\n", want: 12345 << 10},
		{name: "missing", status: "Name:\talertgate\n", wantErr: "no VmRSS"},
		{name: "garbled", status: "VmRSS:\tlots kB\n", wantErr: "invalid syntax"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "status")
			require.NoError(t, os.WriteFile(path, []byte(tc.status), 0o600))
			got, err := readRSS(path)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestReadRSSOfThisProcess(t *testing.T) {
	got, err := readRSS("/proc/self/status")
	require.NoError(t, err)
	require.Positive(t, got)
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := newTailBuffer(8)
	_, _ = b.Write([]byte("0123456789"))
	_, _ = b.Write([]byte("ab\ncd"))
	require.Equal(t, "    789ab\n    cd", b.String())
	require.Equal(t, "    (none)", newTailBuffer(8).String())
	require.NotContains(t, b.String(), "0")
}
