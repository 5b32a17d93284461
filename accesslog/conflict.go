package accesslog

import (
	"fmt"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
)

// ConflictError is the error for a logId stored with other content. The logId is named, unless it
// contains something that parses as a personnummer or samordningsnummer (a producer bug that
// must not leak into responses and logs). Every store returns it, so that the answer does not
// depend on the engine.
func ConflictError(index int, logID string) error {
	name := fmt.Sprintf("%q", logID)
	if containsPersonID(logID) {
		name = "(a value that contains a personal identity number)"
	}
	return &vakt.Error{
		Code:     vakt.CodeConflict,
		Message:  "logId " + name + " is already stored with different content; nothing was stored",
		Problems: []vakt.Problem{{Index: index, Field: "logId", Reason: "is already stored with different content"}},
	}
}

// containsPersonID reports whether s holds a run of 10 or 12 digits, optionally with the
// separator of the written forms, that is a valid personnummer or samordningsnummer.
func containsPersonID(s string) bool {
	now := time.Now()
	for i := 0; i < len(s); i++ {
		for _, n := range []int{10, 11, 12, 13} {
			if i+n > len(s) {
				break
			}
			if _, err := ident.ParsePersonID(s[i:i+n], now); err == nil {
				return true
			}
		}
	}
	return false
}
