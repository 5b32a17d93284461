package rivta

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"
)

// The RIV-TA log queries promise an answer within 15 seconds. A query that is not finished
// within ReportWait goes on in the background as a report; the answer is REPORT_IN_PROCESS
// with its queuedReportId, and the caller polls with that id until the report is ready. Reports
// live in memory: a restart loses the unfinished ones, and their ids become REPORT_NOT_FOUND,
// which tells the caller to ask again.

// Defaults of the query contracts.
const (
	DefaultMaxQueryResult = 10000            // entries one query may return
	DefaultReportWait     = 10 * time.Second // how long a call waits for its query
	reportTTL             = time.Hour        // a finished report is kept this long for its poller
	maxReportRun          = 5 * time.Minute  // a background query is abandoned after this
	maxReportsPerTenant   = 64
)

// report is one query running or finished in the background.
type report struct {
	id, tenant, contract string
	started              time.Time
	done                 chan struct{}
	body                 []byte // the response body element, once done
	finished             time.Time
}

// reportBook holds the reports of all tenants.
type reportBook struct {
	mu      sync.Mutex
	reports map[string]*report
}

func newReportID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// run starts query in the background and waits up to wait for it (not at all when wait ≤ 0:
// the answer is then always a report). It returns the response body
// when the query finished in time, or else the report it goes on as (and nil).
func (rb *reportBook) run(ctx context.Context, tenant, contract string, wait time.Duration, query func(ctx context.Context) []byte) ([]byte, *report, error) {
	r := &report{id: newReportID(), tenant: tenant, contract: contract, started: time.Now(), done: make(chan struct{})}
	// The query outlives the call when it has to; it keeps the caller's principal.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxReportRun)
	go func() {
		defer cancel()
		body := query(qctx)
		rb.mu.Lock()
		r.body, r.finished = body, time.Now()
		rb.mu.Unlock()
		close(r.done)
	}()
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-r.done:
			return r.body, nil, nil
		case <-timer.C:
		case <-ctx.Done():
		}
	}
	rb.mu.Lock()
	defer rb.mu.Unlock()
	rb.expire()
	n := 0
	for _, o := range rb.reports {
		if o.tenant == tenant {
			n++
		}
	}
	if n >= maxReportsPerTenant {
		return nil, nil, fmt.Errorf("too many reports in the background for this tenant")
	}
	if rb.reports == nil {
		rb.reports = map[string]*report{}
	}
	rb.reports[r.id] = r
	return nil, r, nil
}

// poll returns the report with id of tenant and contract; found is false for an unknown id,
// one of another tenant or contract, or one expired. A finished report is handed out once.
func (rb *reportBook) poll(id, tenant, contract string) (r *report, body []byte, found bool) {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	rb.expire()
	r, ok := rb.reports[id]
	if !ok || r.tenant != tenant || r.contract != contract {
		return nil, nil, false
	}
	select {
	case <-r.done:
		delete(rb.reports, id)
		return r, r.body, true
	default:
		return r, nil, true
	}
}

// expire forgets finished reports nobody collected. The caller holds rb.mu.
func (rb *reportBook) expire() {
	now := time.Now()
	for id, r := range rb.reports {
		if !r.finished.IsZero() && now.Sub(r.finished) > reportTTL {
			delete(rb.reports, id)
		}
	}
}

// queueSeconds estimates when a running report is worth polling again.
func (r *report) queueSeconds() int {
	return max(1, min(60, int(time.Since(r.started).Seconds()/2)))
}
