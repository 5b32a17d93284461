package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/vakt/vakt"
)

// Params are argon2id's cost parameters. They are stored in every hash (the PHC string format),
// so raising them later only affects new passwords.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultParams follow RFC 9106's second recommended option scaled to a small server: 64 MiB and
// three passes take about a tenth of a second on one core, which makes guessing a stolen
// registry's passwords expensive while a login still feels instant.
var DefaultParams = Params{MemoryKiB: 64 * 1024, Time: 3, Threads: 2}

// Bounds of parameters accepted from a stored hash, so that a damaged or hostile registry row
// cannot make one login allocate gigabytes or run for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	saltLen      = 16
	keyLen       = 32
)

// Password lengths, in characters. A person's own password must be long rather than complex
// (NIST SP 800-63B); the upper bound keeps hashing bounded.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// CheckPassword tells whether a password a person chose is acceptable.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return vakt.Invalid("password is not valid text", vakt.Problem{Index: -1, Field: "password", Reason: "is not valid UTF-8"})
	case n < MinPasswordLen:
		return vakt.Invalid("password is too short", vakt.Problem{Index: -1, Field: "password", Reason: "is shorter than 12 characters"})
	case n > MaxPasswordLen:
		return vakt.Invalid("password is too long", vakt.Problem{Index: -1, Field: "password", Reason: "is longer than 256 characters"})
	}
	return nil
}

// HashPassword returns the PHC string of pw under argon2id with params and a fresh salt:
// $argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash> (unpadded standard base64).
func HashPassword(pw string, params Params) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, params.Time, params.MemoryKiB, params.Threads, keyLen)
	return "$argon2id$v=19$m=" + strconv.FormatUint(uint64(params.MemoryKiB), 10) +
		",t=" + strconv.FormatUint(uint64(params.Time), 10) +
		",p=" + strconv.FormatUint(uint64(params.Threads), 10) +
		"$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(key)
}

// Hash is a parsed PHC string of argon2id.
type Hash struct {
	Params Params
	Salt   []byte
	Key    []byte
}

// ParseHash parses a PHC string made by HashPassword. It accepts only argon2id version 19 with
// parameters within bounds, a salt of 8–64 bytes and a key of 16–64 bytes.
func ParseHash(s string) (Hash, error) {
	bad := vakt.Errorf(vakt.CodeInternal, "stored password hash is malformed")
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" {
		return Hash{}, bad
	}
	var h Hash
	var seen [3]bool
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" || len(v) > 10 || v[0] == '0' && len(v) > 1 {
			return Hash{}, bad
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return Hash{}, bad
		}
		var i int
		switch k {
		case "m":
			i, h.Params.MemoryKiB = 0, uint32(n)
		case "t":
			i, h.Params.Time = 1, uint32(n)
		case "p":
			if n > 255 {
				return Hash{}, bad
			}
			i, h.Params.Threads = 2, uint8(n)
		default:
			return Hash{}, bad
		}
		if seen[i] {
			return Hash{}, bad
		}
		seen[i] = true
	}
	p := h.Params
	if !seen[0] || !seen[1] || !seen[2] || p.Threads == 0 || p.Time == 0 || p.Time > maxTime ||
		p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB {
		return Hash{}, bad
	}
	var err error
	if h.Salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil || len(h.Salt) < 8 || len(h.Salt) > 64 {
		return Hash{}, bad
	}
	if h.Key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil || len(h.Key) < 16 || len(h.Key) > 64 {
		return Hash{}, bad
	}
	return h, nil
}

// Verify reports whether pw hashes to h, in time that does not depend on where they differ.
func (h Hash) Verify(pw string) bool {
	key := argon2.IDKey([]byte(pw), h.Salt, h.Params.Time, h.Params.MemoryKiB, h.Params.Threads, uint32(len(h.Key)))
	return subtle.ConstantTimeCompare(key, h.Key) == 1
}

// GeneratePassword returns a random password of 24 characters from an alphabet without look-alike
// characters (about 120 bits), grouped in fours so that it can be read aloud and typed.
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b [24]byte
	rand.Read(b[:])
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String()
}

// Authenticator checks people's usernames and passwords against a Store.
type Authenticator struct {
	Store  Store
	Params Params // of new hashes and of the decoy below; DefaultParams when zero
}

// errLogin is the one answer to every failed login, so that it does not tell whether the
// username exists.
var errLogin = vakt.Errorf(vakt.CodeUnauthorized, "unknown username or wrong password")

// Login returns the account of username if pw is its password. An unknown username costs the
// same hashing as a wrong password, so timing does not reveal which accounts exist.
func (a *Authenticator) Login(ctx context.Context, username, pw string) (User, error) {
	params := a.Params
	if params == (Params{}) {
		params = DefaultParams
	}
	if len(pw) > 4*MaxPasswordLen || ValidateUsername(username) != nil {
		return User{}, errLogin
	}
	u, stored, err := a.Store.UserByName(ctx, username)
	if vakt.ErrorCode(err) == vakt.CodeNotFound {
		decoy := Hash{Params: params, Salt: make([]byte, saltLen), Key: make([]byte, keyLen)}
		decoy.Verify(pw)
		return User{}, errLogin
	}
	if err != nil {
		return User{}, err
	}
	h, err := ParseHash(stored)
	if err != nil {
		return User{}, err
	}
	if !h.Verify(pw) || u.Disabled {
		// A disabled account gets the same answer as a wrong password, after the same hashing,
		// so that the login form does not tell which accounts exist.
		return User{}, errLogin
	}
	return u, nil
}
