package session_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/vakt/vakt/session"
	"github.com/vakt/vakt/session/sessiontest"
)

func TestMemory(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T, l session.Limits) (session.Store, session.Store) {
		s := session.NewMemory(l)
		return s, s
	})
}

// TestSeal: sealed data opens only under its id and label, and does not show the plain text.
func TestSeal(t *testing.T) {
	id, other := sessiontest.NewID(), sessiontest.NewID()
	plain := []byte(`{"username":"anna","patient":"191212121212"}`)
	sealed, err := session.Seal(id, "core", plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("anna")) || bytes.Contains(sealed, []byte("1912121212")) {
		t.Fatal("the sealed data shows its plain text")
	}
	if got, err := session.Open(id, "core", sealed); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open: %q %v", got, err)
	}
	again, _ := session.Seal(id, "core", plain)
	if bytes.Equal(again, sealed) {
		t.Fatal("two seals of the same data are equal: the nonce is not fresh")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, try := range map[string]func() ([]byte, error){
		"another id":    func() ([]byte, error) { return session.Open(other, "core", sealed) },
		"another label": func() ([]byte, error) { return session.Open(id, "item:x", sealed) },
		"tampered":      func() ([]byte, error) { return session.Open(id, "core", tampered) },
		"short":         func() ([]byte, error) { return session.Open(id, "core", sealed[:10]) },
	} {
		if _, err := try(); !errors.Is(err, session.ErrSealed) {
			t.Errorf("%s: %v, want ErrSealed", name, err)
		}
	}
}
