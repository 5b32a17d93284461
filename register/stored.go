package register

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Stored documents are read back far more often than they are imported: a log control's
// computation reads the person register for every patient and user of its period, millions of
// documents. encoding/json's reflection made that the largest cost after the log itself, so
// stored documents are read with a tokenizer straight into the draft and then checked by the
// same rules as an import, without encoding the record again.
//
// The reader is stricter than encoding/json, never looser: whatever it accepts, encoding/json
// with DisallowUnknownFields accepts as the same draft. It refuses what vakt never writes
// (json.Marshal of a draft): names in another case or escaped, null, repeated names, invalid
// UTF-8 and anything after the document. Every document vakt stored is in the form it accepts.

var errStoredShape = errors.New("not a stored register document")

// storedReader reads one stored document at a time; pooled, since its decoder's buffers are
// worth keeping between the millions of documents of one computation.
type storedReader struct {
	d jsontext.Decoder
	r bytes.Reader
}

var storedReaders = sync.Pool{New: func() any { return new(storedReader) }}

// parseStored reads a stored document of kind into its typed value (see parseDoc).
func parseStored(kind Kind, doc []byte, now time.Time) (any, error) {
	sr := storedReaders.Get().(*storedReader)
	defer storedReaders.Put(sr)
	var r draft
	err := sr.read(doc, &r)
	at := sr.d.InputOffset()
	sr.r.Reset(nil)
	sr.d.Reset(&sr.r)
	if err != nil {
		// The tokenizer's errors may quote member names, which could be anything once the
		// storage was altered (a personnummer): only the position is told.
		return nil, fmt.Errorf("register: stored %s record does not parse (near byte %d)", kind, at)
	}
	_, val, probs := check(kind, 0, &r, now)
	if len(probs) > 0 {
		return nil, fmt.Errorf("register: stored %s record is invalid (%s: %s)", kind, probs[0].Field, probs[0].Reason)
	}
	return val, nil
}

func (sr *storedReader) read(doc []byte, r *draft) error {
	sr.r.Reset(doc)
	sr.d.Reset(&sr.r)
	err := sr.object(func(name []byte) error {
		var err error
		switch string(name) {
		case "hsaId":
			r.HSAID, err = sr.str()
		case "personId":
			r.PersonID, err = sr.str()
		case "givenName":
			r.GivenName, err = sr.str()
		case "familyName":
			r.FamilyName, err = sr.str()
		case "address":
			r.Address = new(Address)
			err = sr.object(func(name []byte) error {
				var err error
				switch string(name) {
				case "street":
					r.Address.Street, err = sr.str()
				case "postalCode":
					r.Address.PostalCode, err = sr.str()
				case "city":
					r.Address.City, err = sr.str()
				default:
					return errStoredShape
				}
				return err
			})
		case "careProviderId":
			r.CareProviderID, err = sr.str()
		case "units":
			err = sr.array(func() error {
				var u draftUnit
				err := sr.object(func(name []byte) error {
					var err error
					switch string(name) {
					case "careUnitId":
						u.CareUnitID, err = sr.str()
					case "from":
						u.From, err = sr.str()
					case "to":
						u.To, err = sr.str()
					default:
						return errStoredShape
					}
					return err
				})
				r.units = append(r.units, u)
				return err
			})
			r.Units = make([]json.RawMessage, len(r.units))
		case "roles":
			r.Roles = []string{}
			err = sr.array(func() error {
				s, err := sr.str()
				r.Roles = append(r.Roles, s)
				return err
			})
		case "protectedIdentity":
			r.ProtectedIdentity, err = sr.boolean()
		case "deceasedDate":
			r.DeceasedDate, err = sr.str()
		case "reason":
			r.Reason, err = sr.str()
		case "until":
			r.Until, err = sr.str()
		case "caseId":
			r.CaseID, err = sr.str()
		case "patientId":
			r.PatientID, err = sr.str()
		case "handlerHsaId":
			r.HandlerHSAID, err = sr.str()
		case "status":
			r.Status, err = sr.str()
		case "closedAt":
			r.ClosedAt, err = sr.str()
		case "careUnitId":
			r.CareUnitID, err = sr.str()
		case "workingHours":
			w := new(draftWorkHour)
			r.WorkingHours = w
			err = sr.object(func(name []byte) error {
				var err error
				switch string(name) {
				case "mon":
					w.Mon, err = sr.str()
				case "tue":
					w.Tue, err = sr.str()
				case "wed":
					w.Wed, err = sr.str()
				case "thu":
					w.Thu, err = sr.str()
				case "fri":
					w.Fri, err = sr.str()
				case "sat":
					w.Sat, err = sr.str()
				case "sun":
					w.Sun, err = sr.str()
				case "holiday":
					w.Holiday, err = sr.str()
				default:
					return errStoredShape
				}
				return err
			})
		default:
			return errStoredShape
		}
		return err
	})
	if err != nil {
		return err
	}
	if _, err := sr.d.ReadToken(); err != io.EOF {
		return errStoredShape // data after the document
	}
	return nil
}

// object reads an object, calling member for each name with the decoder before its value,
// which member must read. Names must be plain (no escapes): vakt writes none.
func (sr *storedReader) object(member func(name []byte) error) error {
	tok, err := sr.d.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != '{' {
		return errStoredShape
	}
	for sr.d.PeekKind() != '}' {
		v, err := sr.d.ReadValue()
		if err != nil {
			return err
		}
		if len(v) < 2 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 {
			return errStoredShape
		}
		// member switches on string(name), which does not allocate.
		if err := member(v[1 : len(v)-1]); err != nil {
			return err
		}
	}
	_, err = sr.d.ReadToken()
	return err
}

func (sr *storedReader) array(elem func() error) error {
	tok, err := sr.d.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != '[' {
		return errStoredShape
	}
	for sr.d.PeekKind() != ']' {
		if err := elem(); err != nil {
			return err
		}
	}
	_, err = sr.d.ReadToken()
	return err
}

func (sr *storedReader) str() (string, error) {
	tok, err := sr.d.ReadToken()
	if err != nil {
		return "", err
	}
	if tok.Kind() != '"' {
		return "", errStoredShape
	}
	return tok.String(), nil
}

func (sr *storedReader) boolean() (bool, error) {
	tok, err := sr.d.ReadToken()
	if err != nil {
		return false, err
	}
	switch tok.Kind() {
	case 't':
		return true, nil
	case 'f':
		return false, nil
	}
	return false, errStoredShape
}
