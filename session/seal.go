package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// sealInfo names the key's use in HKDF, so that the same id could key nothing else.
const sealInfo = "vakt web session v1"

// ErrSealed: sealed data did not open under the id (altered, moved between rows, or another id).
var ErrSealed = errors.New("session: sealed data does not open")

func aead(id string) (cipher.AEAD, error) {
	// The id is 256 random bits, so HKDF needs no salt to make a uniform key of it.
	key, err := hkdf.Key(sha256.New, []byte(id), nil, sealInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts and authenticates plain with AES-256-GCM under a key derived from id with
// HKDF-SHA-256. The key exists only while a request that carries the cookie is served: the
// store keeps SHA-256(id), from which it cannot be derived. label (the row's part, e.g. an
// item's key) is bound as additional data, so that sealed data cannot be moved to another row
// of the same session unnoticed. The output is nonce || ciphertext.
func Seal(id, label string, plain []byte) ([]byte, error) {
	g, err := aead(id)
	if err != nil {
		return nil, err
	}
	out := make([]byte, g.NonceSize(), g.NonceSize()+len(plain)+g.Overhead())
	rand.Read(out)
	return g.Seal(out, out, plain, []byte(label)), nil
}

// Open reverses Seal; ErrSealed when sealed is not what Seal made of the same id and label.
func Open(id, label string, sealed []byte) ([]byte, error) {
	g, err := aead(id)
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize()+g.Overhead() {
		return nil, ErrSealed
	}
	plain, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], []byte(label))
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}
