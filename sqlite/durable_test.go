package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
)

// flushGate is a sync hook that, once armed, holds every flush of the WAL until released and
// reports each flush it holds.
type flushGate struct {
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	fail    atomic.Bool
}

// open disarms the gate and lets every held flush go on.
func (g *flushGate) open() {
	g.armed.Store(false)
	g.once.Do(func() { close(g.release) })
}

func newFlushGate() *flushGate {
	return &flushGate{entered: make(chan struct{}, 16), release: make(chan struct{})}
}

func (g *flushGate) hook() error {
	if !g.armed.Load() {
		return nil
	}
	g.entered <- struct{}{}
	<-g.release
	if g.fail.Load() {
		return errors.New("injected flush failure")
	}
	return nil
}

type appendResult struct {
	res []accesslog.AppendResult
	err error
}

func appendAsync(st *Store, entries ...accesslog.Entry) <-chan appendResult {
	out := make(chan appendResult, 1)
	batch := make([]accesslog.Pending, len(entries))
	for i, e := range entries {
		batch[i] = accesslog.Prepare(e)
	}
	go func() {
		res, err := st.Append(context.Background(), batch)
		out <- appendResult{res, err}
	}()
	return out
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestAppendAnsweredOnlyAfterFlush: with the WAL flush held, an append is committed but not
// answered, not visible to readers and not in the tree a checkpoint signs; a retry of the same
// logId is not answered either. Releasing the flush answers both and makes the entry visible.
func TestAppendAnsweredOnlyAfterFlush(t *testing.T) {
	ctx := context.Background()
	gate := newFlushGate()
	opts := testKeys(Options{})
	opts.syncHook = gate.hook
	st, err := OpenStore(ctx, filepath.Join(t.TempDir(), "t.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer gate.open() // before Close, which flushes, even when the test fails early

	gate.armed.Store(true)
	first := appendAsync(st, testEntry("held-1"))
	waitFor(t, gate.entered, "the flush of the first commit")
	// The commit is in the WAL now; the flush that makes it durable is held.
	retry := appendAsync(st, testEntry("held-1"))
	other := appendAsync(st, testEntry("held-2"))
	// The writer commits "held-2" while the flush is held; wait until the row is in the file,
	// so the checks below also cover a second commit that is not flushed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		stats, err := st.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Entries >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer did not commit the second entry while the first flush was held")
		}
		time.Sleep(time.Millisecond) // polling the file: no event tells of a commit
	}
	for _, c := range []<-chan appendResult{first, retry, other} {
		select {
		case r := <-c:
			t.Fatalf("an append was answered before its flush: %+v", r)
		default:
		}
	}
	for _, id := range []string{"held-1", "held-2"} {
		if _, err := st.Get(ctx, id); vakt.ErrorCode(err) != vakt.CodeNotFound {
			t.Fatalf("%s is visible to readers before it is durable (err %v)", id, err)
		}
	}
	if h := st.head.Load(); h.size != 0 {
		t.Fatalf("the tree a checkpoint would sign has %d leaves before any flush", h.size)
	}

	gate.open()
	for _, c := range []<-chan appendResult{first, retry, other} {
		r := <-c
		if r.err != nil {
			t.Fatal(r.err)
		}
	}
	for _, id := range []string{"held-1", "held-2"} {
		if _, err := st.Get(ctx, id); err != nil {
			t.Fatalf("%s not visible after its flush: %v", id, err)
		}
	}
	cp, err := st.SignCheckpoint(ctx)
	if err != nil || cp.Size != 2 {
		t.Fatalf("checkpoint after the flush: size %d, %v", cp.Size, err)
	}
}

// TestFailedFlushStopsAppends: an append whose flush fails is answered with an error, never
// becomes visible, and the store refuses further appends rather than promise durability it
// can no longer give.
func TestFailedFlushStopsAppends(t *testing.T) {
	ctx := context.Background()
	gate := newFlushGate()
	opts := testKeys(Options{})
	opts.syncHook = gate.hook
	st, err := OpenStore(ctx, filepath.Join(t.TempDir(), "t.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	gate.armed.Store(true)
	gate.fail.Store(true)
	gate.open()
	gate.armed.Store(true)
	r := <-appendAsync(st, testEntry("lost-1"))
	if vakt.ErrorCode(r.err) != vakt.CodeUnavailable || r.res != nil {
		t.Fatalf("append with a failed flush: %+v, want an unavailable error", r)
	}
	if _, err := st.Get(ctx, "lost-1"); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("an entry whose flush failed is visible (err %v)", err)
	}
	gate.armed.Store(false)
	r = <-appendAsync(st, testEntry("after-1"))
	if !errors.Is(r.err, errSyncFailed) {
		t.Fatalf("append after a failed flush: %v, want the store to refuse", r.err)
	}
}
