package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// ingestWide writes n requests of 50 new alerts each, every alert in a
// group of its own and carrying a 3 KB description, so each commit adds
// many pages to the WAL.
func ingestWide(t *testing.T, s *Store, tag string, n int) { ingestWidth(t, s, tag, n, 50) }

func ingestWidth(t *testing.T, s *Store, tag string, n, width int) {
	t.Helper()
	for i := range n {
		batch := make([]alert.Alert, width)
		for j := range batch {
			batch[j] = firing(fmt.Sprintf("Wide%s%d_%d", tag, i, j), "svc", fmt.Sprintf("%s-%d-%d", tag, i, j))
			batch[j].Annotations = map[string]string{"description": pad}
		}
		_, err := s.Ingest(context.Background(), batch)
		require.NoError(t, err)
	}
}

var pad = strings.Repeat("x", 3000)

func countRows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	require.NoError(t, s.r.QueryRow(`SELECT count(*) FROM `+table).Scan(&n))
	return n
}

// The writer never checkpoints on its own (a checkpoint inside a commit
// makes every queued ingest wait for it); the checkpointer copies the WAL
// back.
func TestSQLiteWriterDoesNotCheckpoint(t *testing.T) {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "test.db"), testOptions(newClock()))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	s.ckpt.close() // this test runs the checkpoints itself

	ingestWide(t, s, "a", 14)
	st, err := s.ckpt.pass()
	require.NoError(t, err)
	// SQLite's default would have checkpointed and rewound the WAL at
	// 1,000 pages, inside a commit.
	require.Greater(t, st.frames, 1000, "the WAL grew past SQLite's auto-checkpoint size")
	require.Equal(t, st.frames, st.copied, "a passive checkpoint with no reader copies the whole WAL")
	require.Equal(t, 14*50, countRows(t, s, "alerts"))
}

// A long WAL is rewound by the writer connection itself, between two
// transactions.
func TestSQLiteWriterRewindsALongWAL(t *testing.T) {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "test.db"), testOptions(newClock()))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	s.ckpt.close()
	s.ckpt.restartAt = 1000

	// Nothing checkpoints: the WAL only grows.
	ingestWide(t, s, "a", 14)
	require.False(t, s.ckpt.long(), "no checkpoint has measured the WAL yet")
	ingestWide(t, s, "b", 1)
	st, err := s.ckpt.checkpoint(s.ckpt.db)
	require.NoError(t, err)
	require.Greater(t, st.frames, 1000)

	// As the checkpoint loop would have seen it while the writer kept
	// committing: long. The next batch's writer copies and rewinds it.
	s.ckpt.frames.Store(int64(st.frames))
	ingestWide(t, s, "c", 1)
	// The writer checkpoints after answering.
	require.Eventually(t, func() bool { return !s.ckpt.long() }, 5*time.Second, time.Millisecond,
		"the writer's checkpoint copied the WAL")
	ingestWide(t, s, "d", 1)
	st, err = s.ckpt.checkpoint(s.ckpt.db)
	require.NoError(t, err)
	require.Less(t, st.frames, 500, "the WAL started again from the beginning")

	// Every writer rewinds, not only ingest: an acknowledgement through
	// the API while the WAL is long does it too, before it returns.
	ingestWide(t, s, "e", 15)
	st, err = s.ckpt.checkpoint(s.ckpt.db)
	require.NoError(t, err)
	require.Greater(t, st.frames, 1000)
	s.ckpt.frames.Store(int64(st.frames))
	_, err = s.Acknowledge(context.Background(), 1, "alice", "")
	require.NoError(t, err)
	require.False(t, s.ckpt.long(), "the acknowledgement's transaction copied the WAL")
	require.Equal(t, 32*50, countRows(t, s, "alerts"))
}

// With the loop running, under continuous ingest from several callers,
// the WAL file stays near the restart size while the commits write many
// times that, and the database file grows as the loop copies pages.
func TestSQLiteCheckpointLoopBoundsTheWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	s, err := OpenSQLite(context.Background(), path, testOptions(newClock()))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	s.ckpt.close()
	s.ckpt = newCheckpointer(s.ckpt.db, s.log)
	s.ckpt.restartAt = 50 // 200 KiB
	s.ckpt.every = time.Millisecond
	go s.ckpt.loop()

	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	start := size(path)
	var wg sync.WaitGroup
	var maxWAL int64
	var mu sync.Mutex
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				ingestWidth(t, s, fmt.Sprint("w", w, "-", i, "-"), 1, 20)
				mu.Lock()
				maxWAL = max(maxWAL, size(path+"-wal"))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Eventually(t, func() bool { return size(path)-start > 512<<10 }, 10*time.Second, 20*time.Millisecond,
		"the loop copies committed pages into the database file")
	t.Logf("database %d bytes, WAL at most %d bytes", size(path), maxWAL)
	require.Less(t, maxWAL, int64(3<<20), "WAL file bounded")
	require.Equal(t, 60*20, countRows(t, s, "alerts"))
}

// The writer's page cache holds a storm's group-commit transaction (see
// writerCacheKiB); the other connections keep SQLite's default.
func TestSQLiteWriterCacheSize(t *testing.T) {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "test.db"), testOptions(newClock()))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	var w, r int
	require.NoError(t, s.w.QueryRow(`PRAGMA cache_size`).Scan(&w))
	require.NoError(t, s.r.QueryRow(`PRAGMA cache_size`).Scan(&r))
	require.Equal(t, -writerCacheKiB, w)
	require.Equal(t, -2000, r)
}
