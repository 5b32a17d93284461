package accesslog

import (
	"context"
	"time"

	"github.com/vakt/vakt/ident"
)

// MaxLastActivityUsers bounds one LastActivity call: a care unit's permission list, not a
// register-wide sweep.
const MaxLastActivityUsers = 5000

// LastActivity returns, for each of users, the activity.startDate of the newest entry in st that
// the user made from careUnit (user.userId and user.careUnit.careUnitId); users without one are
// absent from the map. It is the "last activity" of a permission list (behörighetslista): who
// still works at the unit and who has left without their access being taken away.
//
// Each user is one Search for the newest matching entry, which every Store answers from its
// index by user (newest first, the unit checked on the way): no new index on the log's hot
// path, and the cost grows with a user's entries at other units, not with the log. The caller
// decides who may see the answer and logs the read; LastActivity reads only.
func LastActivity(ctx context.Context, st Store, careUnit ident.HSAID, users []ident.HSAID) (map[ident.HSAID]time.Time, error) {
	out := make(map[ident.HSAID]time.Time, len(users))
	for _, u := range users {
		if _, done := out[u]; done || u == "" {
			continue
		}
		page, err := st.Search(ctx, Query{UserID: u, CareUnitID: careUnit, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(page.Entries) == 0 {
			continue
		}
		e, err := page.Entries[0].Entry()
		if err != nil {
			return nil, err
		}
		out[u] = e.Activity.StartDate
	}
	return out, nil
}
