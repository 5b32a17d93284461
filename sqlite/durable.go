package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/vakt/vakt"
)

// Durability without holding up the writer.
//
// The writing connection runs with synchronous=NORMAL: a commit appends its frames to the WAL
// and returns without waiting for the disk. The syncer goroutine then flushes the WAL file
// (fdatasync) and only after that answers the requests whose entries the commit holds, makes
// the entries visible to readers and hands the grown tree to the checkpointer. Meanwhile the
// writer already prepares and commits the next group, so the fsync of one group overlaps the
// work on the next, and one fsync covers every group committed while the previous one ran.
//
// Why this is as durable as synchronous=FULL: the WAL is only ever appended to between
// checkpoints, so flushing the file makes every frame written before the flush durable, commit
// frames included, in order. A WAL checkpoint syncs the WAL before it copies frames into the
// database file and syncs the database file before the WAL is reused (SQLite does both at any
// synchronous level above OFF). A crash loses at most commits that no one was told about.
//
// What is promised: an Append returns only after the flush that covers its commit; readers (search,
// proofs, Scan) and signed checkpoints only see entries whose commit is durable. The one thing a
// concurrent Append can observe earlier is the writer's own state: a retry of a logId that is
// committed but not yet flushed is recognised as a duplicate, and its answer waits for the same
// flush. If a flush fails the store stops accepting entries (as PostgreSQL stops on a failed
// fsync): the kernel may have dropped the dirty pages, so nothing after them can be promised.

// syncTicket is what the syncer does after the next flush: answer reqs and run publish. A
// ticket that follows no commit (dirty false) needs no flush of its own, only to wait for the
// flushes of the tickets before it.
type syncTicket struct {
	reqs    []*appendReq
	publish func()
	dirty   bool
	done    chan struct{} // closed after publish, if not nil
}

// walSyncer flushes a database's WAL file.
type walSyncer struct {
	f *os.File
}

// openWALSyncer opens the WAL file of the database at path, which its connections have
// created already, and makes its directory entry durable.
func openWALSyncer(path string) (*walSyncer, error) {
	f, err := os.OpenFile(path+"-wal", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open the WAL for flushing: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, err
	}
	return &walSyncer{f: f}, nil
}

func (w *walSyncer) sync() error {
	if err := fdatasync(w.f); err != nil {
		return fmt.Errorf("sqlite: flush the WAL: %w", err)
	}
	return nil
}

func (w *walSyncer) close() error { return w.f.Close() }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sqlite: open the database directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sqlite: flush the database directory: %w", err)
	}
	return nil
}

// errSyncFailed answers every append after a failed flush of the WAL.
var errSyncFailed = &vakt.Error{Code: vakt.CodeUnavailable, Message: "storage failed to make entries durable; the log stopped accepting entries until it is restarted"}

// flushWAL makes every commit so far durable: through the store's hook in tests, else by
// flushing the WAL file.
func (s *Store) flushWAL() error {
	if s.opts.syncHook != nil {
		if err := s.opts.syncHook(); err != nil {
			return err
		}
	}
	return s.wal.sync()
}

// afterSync hands t to the syncer. Before the syncer runs (at open) and after it stopped, it
// flushes and completes t at once.
func (s *Store) afterSync(t *syncTicket) {
	if s.syncs != nil {
		s.syncs <- t
		return
	}
	var err error
	if t.dirty {
		err = s.flushWAL()
	}
	s.complete([]*syncTicket{t}, err)
}

// waitSynced returns when every commit handed to the syncer so far is durable and published.
func (s *Store) waitSynced() {
	done := make(chan struct{})
	s.afterSync(&syncTicket{done: done})
	<-done
}

// syncLoop flushes the WAL for the tickets the writer sends, as many per flush as have queued
// up while the previous flush ran.
func (s *Store) syncLoop() {
	defer close(s.syncerDone)
	var batch []*syncTicket
	for t := range s.syncs {
		batch = append(batch[:0], t)
	drain:
		for {
			select {
			case t, ok := <-s.syncs:
				if !ok {
					break drain
				}
				batch = append(batch, t)
			default:
				break drain
			}
		}
		var err error
		for _, t := range batch {
			if t.dirty {
				err = s.flushWAL()
				break
			}
		}
		s.complete(batch, err)
	}
}

// complete publishes and answers the tickets of one flush, or fails their requests if the
// flush (or an earlier one) failed.
func (s *Store) complete(batch []*syncTicket, err error) {
	if err != nil && s.syncFailed.CompareAndSwap(false, true) {
		s.log.Error("flushing the WAL failed; the log stops accepting entries until restarted", "err", err)
	}
	failed := s.syncFailed.Load()
	for _, t := range batch {
		if !failed && t.publish != nil {
			t.publish()
		}
		for _, r := range t.reqs {
			if failed && r.err == nil {
				r.err, r.res = errSyncFailed, nil
			}
			close(r.done)
		}
		if t.done != nil {
			close(t.done)
		}
	}
}

// syncState is the part of Store the syncer owns or shares; embedded to keep Store's list short.
type syncState struct {
	wal        *walSyncer
	syncs      chan *syncTicket // from the writer to the syncer, in commit order
	syncerDone chan struct{}
	syncFailed atomic.Bool
}
