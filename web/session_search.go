package web

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// searchData is a search as it is encoded for the session store. A personnummer travels as root
// and extension (ident.PersonID keeps its parts to itself); the store seals the whole.
type searchData struct {
	ID           string                 `json:"id"`
	Tab          tab                    `json:"tab"`
	PatientRoot  string                 `json:"patientRoot,omitempty"`
	PatientExt   string                 `json:"patientExt,omitempty"`
	Staff        ident.HSAID            `json:"staff,omitempty"`
	From         time.Time              `json:"from"`
	To           time.Time              `json:"to"`
	CareUnit     ident.HSAID            `json:"careUnit,omitempty"`
	ActivityType accesslog.ActivityType `json:"activityType,omitempty"`
	Purpose      accesslog.Purpose      `json:"purpose,omitempty"`
	Subject      string                 `json:"subject"`
	Period       string                 `json:"period"`
	Filters      string                 `json:"filters,omitempty"`
	At           time.Time              `json:"at"`
	Rows         []row                  `json:"rows"`
	Truncated    bool                   `json:"truncated,omitempty"`
}

func encodeSearch(sr *search) []byte {
	d := searchData{ID: sr.id, Tab: sr.tab, Staff: sr.q.Staff, From: sr.q.From, To: sr.q.To, CareUnit: sr.q.CareUnit,
		ActivityType: sr.q.ActivityType, Purpose: sr.q.Purpose, Subject: sr.subject, Period: sr.period, Filters: sr.filters,
		At: sr.at, Rows: sr.rows, Truncated: sr.truncate}
	if !sr.q.Patient.IsZero() {
		d.PatientRoot, d.PatientExt = sr.q.Patient.Root(), sr.q.Patient.Extension()
	}
	b, _ := json.Marshal(d)
	return b
}

func decodeSearch(b []byte) (*search, error) {
	var d searchData
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	sr := &search{id: d.ID, tab: d.Tab, subject: d.Subject, period: d.Period, filters: d.Filters, at: d.At, rows: d.Rows, truncate: d.Truncated,
		q: accesslog.FollowUpQuery{Staff: d.Staff, From: d.From, To: d.To, CareUnit: d.CareUnit, ActivityType: d.ActivityType, Purpose: d.Purpose}}
	if d.PatientExt != "" {
		// The number was accepted when the search ran (reserve numbers included, where the
		// tenant allows them), so it is read back as it was, without the tenant's rules.
		p, err := ident.NewPersonID(d.PatientRoot, d.PatientExt, d.At, true)
		if err != nil {
			return nil, err
		}
		sr.q.Patient = p
	}
	return sr, nil
}

// maxCachedRows bounds the rows of the decoded items (searches, flag searches) a node keeps
// (about 30 MB): a result page is paged and sorted many times, and decoding an item of many
// rows at each would cost more than the page.
const maxCachedRows = 100_000

// itemCache keeps decoded session items of this node by session key and item key. An item
// never changes once made, so a cached one is never stale; it is only found through a request
// whose session the store has just confirmed live.
type itemCache struct {
	mu   sync.Mutex
	m    map[cacheKey]any
	rows int
}

type cacheKey struct {
	session [32]byte
	item    string
}

func (c *itemCache) get(sess [32]byte, item string) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[cacheKey{sess, item}]
}

// put keeps v, which holds rows rows.
func (c *itemCache) put(sess [32]byte, item string, v any, rows int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || c.rows+rows > maxCachedRows {
		// Emptied rather than evicted one by one: refilling costs a decode per item.
		c.m, c.rows = map[cacheKey]any{}, 0
	}
	c.m[cacheKey{sess, item}] = v
	c.rows += rows + 1
}
