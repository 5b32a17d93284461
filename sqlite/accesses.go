package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/sqlite/internal/runindex"
)

// ScanAccesses implements accesslog.Store. A log control reads a whole month, so this is built
// for throughput rather than for Search's order:
//
//   - the time index says which entries lie in the period: their sequence numbers go into a
//     bitmap (a bit per entry between the first and the last, a few MB for a month of millions);
//   - the entry rows are then read in sequence order, in ranges of consecutive rows, which is
//     SQLite's fastest read (its B-tree in key order), instead of looking rows up one page of
//     candidates at a time as Export does;
//   - the rows are projected (accesslog.Projector) on a goroutine per core, each with its own
//     read connection (all but one of the pool, which stays free for searches), while fn
//     consumes finished batches on the caller's goroutine; the shared actor part of the rows is
//     projected once per actor.
func (s *Store) ScanAccesses(ctx context.Context, from, to time.Time, fn func(*accesslog.Access) error) error {
	fromTS, toTS := accesslog.CeilMicro(from), accesslog.CeilMicro(to)-1
	if fromTS > toTS {
		return nil
	}
	set, err := s.seqsBetween(ctx, fromTS, toTS)
	if err != nil {
		return err
	}
	chunks := set.chunks(scanChunkRows)
	if len(chunks) == 0 {
		return nil
	}
	// One read connection is left to searches, which must not wait for a month's scan.
	workers := max(1, min(runtime.GOMAXPROCS(0), s.opts.ReadConns-1, len(chunks)))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	todo := make(chan seqRange, len(chunks))
	for _, c := range chunks {
		todo <- c
	}
	close(todo)
	full := make(chan *accessBatch, 2*workers)
	free := make(chan *accessBatch, 3*workers)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.projectRanges(ctx, set, todo, free, full); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	go func() { wg.Wait(); close(full) }()

	var fnErr error
	for b := range full {
		if fnErr == nil {
			for i := range b.items[:b.n] {
				if fnErr = fn(&b.items[i]); fnErr != nil {
					cancel()
					break
				}
			}
		}
		select {
		case free <- b:
		default:
		}
	}
	if fnErr != nil {
		return fnErr
	}
	select {
	case err := <-errs:
		return err
	default:
	}
	return ctx.Err()
}

// scanChunkRows is how many consecutive rows one read statement covers: large enough that a
// statement's cost vanishes, small enough that the workers share the work evenly.
const scanChunkRows = 1 << 15

// accessBatchSize is how many Accesses travel from a worker to the consumer at once.
const accessBatchSize = 512

type accessBatch struct {
	items [accessBatchSize]accesslog.Access
	n     int
}

// projectRanges reads the rows of the ranges from todo, projects those in set and sends them
// in batches on full.
func (s *Store) projectRanges(ctx context.Context, set *seqSet, todo <-chan seqRange, free <-chan *accessBatch, full chan<- *accessBatch) error {
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return translate(err, "read entries")
	}
	defer conn.Close()
	p := accesslog.NewProjector()
	actors := map[int64]*accesslog.Access{}
	var b *accessBatch
	send := func() error {
		if b == nil || b.n == 0 {
			return nil
		}
		select {
		case full <- b:
			b = nil
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for r := range todo {
		rows, err := conn.QueryContext(ctx, `SELECT seq, actor, head FROM entries WHERE seq BETWEEN ? AND ?`, r.lo, r.hi)
		if err != nil {
			return translate(err, "read entries")
		}
		var seq, actorID int64
		var head sql.RawBytes
		for rows.Next() {
			if err := rows.Scan(&seq, &actorID, &head); err != nil {
				rows.Close()
				return translate(err, "read entries")
			}
			if !set.has(seq) {
				continue
			}
			actor := actors[actorID]
			if actor == nil {
				a, ok := s.dict.actor(actorID)
				if !ok {
					rows.Close()
					return vakt.Errorf(vakt.CodeInternal, "entry %d names unknown actor %d", seq, actorID)
				}
				actor = &accesslog.Access{}
				if err := p.ProjectActor(a.json, actor); err != nil {
					rows.Close()
					return fmt.Errorf("sqlite: actor %d: %w", actorID, err)
				}
				actors[actorID] = actor
			}
			if b == nil {
				select {
				case b = <-free:
					b.n = 0
				default:
					b = &accessBatch{}
				}
			}
			it := &b.items[b.n]
			res := it.Resources
			*it = *actor
			it.Resources = res
			it.Seq = seq
			if err := p.ProjectHead(head, it); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: entry %d: %w", seq, err)
			}
			b.n++
			if b.n == accessBatchSize {
				if err := send(); err != nil {
					rows.Close()
					return err
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return translate(err, "read entries")
		}
	}
	return send()
}

// seqSet is a set of sequence numbers in [base, base+64·len(words)).
type seqSet struct {
	base  int64
	words []uint64
}

func (s *seqSet) add(seq int64) {
	i := seq - s.base
	s.words[i>>6] |= 1 << (i & 63)
}

func (s *seqSet) has(seq int64) bool {
	i := seq - s.base
	return i >= 0 && i>>6 < int64(len(s.words)) && s.words[i>>6]&(1<<(i&63)) != 0
}

type seqRange struct{ lo, hi int64 }

// chunks returns ranges of at most n sequence numbers that cover the set; members closer than
// a few dozen rows share a range, since reading a row is cheaper than starting a statement.
func (s *seqSet) chunks(n int64) []seqRange {
	const gap = 64
	var out []seqRange
	cur := seqRange{lo: -1}
	for w, word := range s.words {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &= word - 1
			seq := s.base + int64(w)<<6 + int64(b)
			switch {
			case cur.lo < 0:
				cur = seqRange{seq, seq}
			case seq-cur.hi <= gap && seq-cur.lo < n:
				cur.hi = seq
			default:
				out = append(out, cur)
				cur = seqRange{seq, seq}
			}
		}
	}
	if cur.lo >= 0 {
		out = append(out, cur)
	}
	return out
}

// seqsBetween returns the sequence numbers of the entries with startDate (µs) in [fromTS, toTS],
// from the time postings of the live runs and the tail.
func (s *Store) seqsBetween(ctx context.Context, fromTS, toTS int64) (*seqSet, error) {
	s.readers.RLock()
	defer s.readers.RUnlock()
	v := s.view.Load()
	lo, hi := int64(maxInt64), int64(0)
	var runs []*run
	for _, r := range v.runs {
		if r.maxTS < fromTS || r.minTS > toTS {
			continue
		}
		runs = append(runs, r)
		lo, hi = min(lo, r.lo), max(hi, r.hi)
	}
	for i := range v.tail {
		if te := &v.tail[i]; te.ts >= fromTS && te.ts <= toTS {
			lo, hi = min(lo, te.seq), max(hi, te.seq)
		}
	}
	if hi < lo {
		return &seqSet{}, nil
	}
	set := &seqSet{base: lo, words: make([]uint64, (hi-lo)/64+1)}
	blo := runindex.Posting{Key: 0, TS: fromTS, Seq: minInt64}
	bhi := runindex.Posting{Key: 0, TS: toTS, Seq: maxInt64}
	var dec []runindex.Posting
	for _, r := range runs {
		fs := r.fences[kindTime]
		after := func(p runindex.Posting) int {
			return sort.Search(len(fs), func(i int) bool { return runindex.Compare(fs[i].first, p) > 0 })
		}
		first, last := max(after(blo)-1, 0), after(bhi)-1
		for i := first; i <= last; i += 256 {
			ids := make([]int64, 0, 256)
			for j := i; j <= last && j < i+256; j++ {
				ids = append(ids, fs[j].id)
			}
			blocks, err := s.readBlocks(ctx, ids)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				data, ok := blocks[id]
				if !ok {
					return nil, fmt.Errorf("sqlite: index block %d is missing", id)
				}
				if dec, err = runindex.DecodeBlock(dec[:0], data); err != nil {
					return nil, err
				}
				for _, p := range dec {
					if p.Key == 0 && p.TS >= fromTS && p.TS <= toTS {
						set.add(p.Seq)
					}
				}
			}
		}
	}
	for i := range v.tail {
		if te := &v.tail[i]; te.ts >= fromTS && te.ts <= toTS {
			set.add(te.seq)
		}
	}
	return set, nil
}
