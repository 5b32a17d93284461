package rivta

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
)

func sampleEntry(t testing.TB) accesslog.Entry {
	d := accesslog.Draft{
		LogID:    "e-1",
		System:   accesslog.DraftSystem{SystemID: "SE2321000016-S001"},
		Activity: accesslog.DraftActivity{ActivityType: "Läsa", StartDate: "2026-11-30T09:15:00+01:00", Purpose: "Vård och behandling"},
		User: accesslog.DraftUser{UserID: "SE2321000016-U001", CareProvider: accesslog.DraftCareProvider{CareProviderID: "SE2321000016-0001"},
			CareUnit: accesslog.DraftCareUnit{CareUnitID: "SE2321000016-E001"}},
		Resources: []accesslog.DraftResource{{ResourceType: "Journalanteckning",
			Patient:      &accesslog.DraftPatient{PatientID: accesslog.DraftII{Root: "1.2.752.129.2.1.3.1", Extension: "191212121212"}},
			CareProvider: accesslog.DraftCareProvider{CareProviderID: "SE2321000016-0001"}}},
	}
	e, problems := d.Validate(0, accesslog.ValidateOptions{Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return e
}

// decodeStoreLog decodes a whole StoreLog 2 request as the handler does.
func decodeStoreLog(body []byte, max int) ([]accesslog.Draft, []vakt.Problem, error) {
	d := newDecoder(newXMLReader(bytes.NewReader(body)))
	_, op, err := readEnvelope(d)
	if err != nil {
		return nil, nil, err
	}
	if op != (xname{nsStoreLog2, "StoreLog"}) {
		return nil, nil, errors.New("other operation")
	}
	d.dialect = dialectV2
	drafts, err := d.storeLog(nsStoreLog2, "log", max)
	if err == nil {
		err = finish(d)
	}
	return drafts, d.problems, err
}

// An entry encoded by AppendLog decodes to a draft that validates to the same entry.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	e := sampleEntry(t)
	drafts, problems, err := decodeStoreLog(StoreLogRequest("SE165565594230-1000", []accesslog.Entry{e, e}), 10)
	if err != nil || len(problems) > 0 || len(drafts) != 2 {
		t.Fatalf("%d drafts, %v, %v", len(drafts), problems, err)
	}
	got, problems := drafts[1].Validate(1, accesslog.ValidateOptions{Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if !bytes.Equal(accesslog.Prepare(got).Content, accesslog.Prepare(e).Content) {
		t.Fatalf("round trip changed the entry:\n%s\n%s", accesslog.Prepare(got).Content, accesslog.Prepare(e).Content)
	}
	if _, _, err := decodeStoreLog(StoreLogRequest("x", []accesslog.Entry{e, e, e}), 2); vakt.ErrorCode(err) != vakt.CodeTooLarge {
		t.Fatalf("3 entries, at most 2: %v", err)
	}
}

// FuzzStoreLog: decoding any input neither panics nor accepts more than the limit, and every
// failure is malformed input, a fault or a size error.
func FuzzStoreLog(f *testing.F) {
	f.Add(StoreLogRequest("SE165565594230-1000", []accesslog.Entry{sampleEntry(f)}))
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><StoreLog xmlns="urn:riv:informationsecurity:auditing:log:StoreLogResponder:2"><log><logId xmlns="urn:riv:informationsecurity:auditing:log:2">x</logId></log></StoreLog></s:Body></s:Envelope>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		drafts, _, err := decodeStoreLog(body, 5)
		if err != nil {
			var fe *faultError
			if !errors.Is(err, errMalformed) && !errors.As(err, &fe) && vakt.ErrorCode(err) != vakt.CodeTooLarge && err.Error() != "other operation" {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(drafts) > 5 {
			t.Fatalf("%d drafts", len(drafts))
		}
		for i := range drafts {
			drafts[i].Validate(i, accesslog.ValidateOptions{Now: time.Now()})
		}
	})
}

// BenchmarkDecodeStoreLog: decoding a StoreLog 2 request of 100 entries (per entry).
func BenchmarkDecodeStoreLog(b *testing.B) {
	e := sampleEntry(b)
	entries := make([]accesslog.Entry, 100)
	for i := range entries {
		entries[i] = e
	}
	body := StoreLogRequest("SE165565594230-1000", entries)
	b.SetBytes(int64(len(body) / len(entries)))
	b.ReportAllocs()
	for b.Loop() {
		drafts, problems, err := decodeStoreLog(body, 1000)
		if err != nil || len(problems) > 0 || len(drafts) != 100 {
			b.Fatal(err, problems)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(entries)), "ns/entry")
}

// FuzzQueryRequest: reading any GetLogs 2 request neither panics nor fails other than as
// malformed input or a fault.
func FuzzQueryRequest(f *testing.F) {
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><g:GetLogs xmlns:g="urn:riv:informationsecurity:auditing:log:GetLogsResponder:2" xmlns:c="urn:riv:informationsecurity:auditing:log:2"><g:careProviderId>SE2321000016-0001</g:careProviderId><g:patientId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>191212121212</c:extension></g:patientId><g:fromDate>2026-01-01T00:00:00</g:fromDate><g:toDate>2026-02-01T00:00:00</g:toDate></g:GetLogs></s:Body></s:Envelope>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d := newDecoder(newXMLReader(bytes.NewReader(body)))
		_, _, err := readEnvelope(d)
		if err == nil {
			_, err = d.readQuery2(nsGetLogs2, getLogs2Seq)
		}
		if err == nil {
			err = finish(d)
		}
		var fe *faultError
		if err != nil && !errors.Is(err, errMalformed) && !errors.As(err, &fe) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
