package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vakt/vakt/accesslog"
)

// BareCopy is the baseline of the ingest benchmark: it writes batches into tenantID's tables
// exactly as Append does (the same rows, tables, indexes and COPY statements, one transaction
// per batch, concurrency transactions at once) but without what makes a log: no head lock, no
// sequence numbering in one order, no idempotency check and no Merkle tree. It returns how long
// the copying took. Never use it on a tenant that holds a real log.
func (s *Stores) BareCopy(ctx context.Context, tenantID string, batches [][]accesslog.Pending, concurrency int) (time.Duration, error) {
	st, err := s.store(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	received := time.Now().UTC().Truncate(time.Microsecond)
	var next, seq atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(batches) {
					return
				}
				b := batches[i]
				first := seq.Add(int64(len(b))) - int64(len(b)) + 1
				rows := make([]newRow, len(b))
				for j := range b {
					rows[j] = newRow{p: &b[j], seq: first + int64(j)}
					rows[j].doc = b[j].Seal(make([]byte, 0, len(b[j].Content)+64), rows[j].seq, received)
				}
				tx, err := st.pool.Begin(ctx)
				if err == nil {
					err = st.writeRows(ctx, tx, rows, received)
					if err == nil {
						err = tx.Commit(ctx)
					} else {
						tx.Rollback(ctx)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}
