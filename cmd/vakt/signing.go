package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vakt/vakt/merkle"
	"github.com/vakt/vakt/sqlite"
)

// The instance name starts every tenant's checkpoint origin ("<instance>/<tenant>"), and the
// instance secret derives every tenant's checkpoint signing key. Both must stay the same for the
// life of the data, so both are kept in the data directory once chosen.
const (
	instanceFile = "instance"
	secretFile   = "signing.key"
)

// openSigning returns the instance's signing configuration. An explicit instance name or secret
// wins; otherwise the data directory's are used, and created on first start: the instance name
// from the host name, the secret from 32 random bytes in a file only the owner can read.
func openSigning(dataDir, instance, secretB64 string) (sqlite.Signing, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return sqlite.Signing{}, err
	}
	name, err := instanceName(dataDir, instance)
	if err != nil {
		return sqlite.Signing{}, err
	}
	secret, err := signingSecret(dataDir, secretB64)
	if err != nil {
		return sqlite.Signing{}, err
	}
	return sqlite.Signing{Instance: name, Secret: secret}, nil
}

func instanceName(dataDir, explicit string) (string, error) {
	path := filepath.Join(dataDir, instanceFile)
	stored, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	storedName := strings.TrimSpace(string(stored))
	switch {
	case explicit != "" && storedName != "" && explicit != storedName:
		return "", fmt.Errorf("--instance %q differs from %q, the name this data directory's checkpoints carry; changing it would break every tenant's checkpoint history", explicit, storedName)
	case explicit != "":
		storedName = explicit
	case storedName == "":
		host, _ := os.Hostname()
		storedName = sanitizeInstance(host)
	}
	if !merkle.ValidInstanceName(storedName) {
		return "", fmt.Errorf("instance name %q may only hold letters, digits and . - _ : /", storedName)
	}
	if len(stored) == 0 {
		if err := os.WriteFile(path, []byte(storedName+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	return storedName, nil
}

func sanitizeInstance(host string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(host) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "vakt"
	}
	return b.String()
}

func signingSecret(dataDir, explicit string) ([]byte, error) {
	if explicit != "" {
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(explicit))
		if err != nil || len(secret) < 32 {
			return nil, errors.New("--signing-key must be at least 32 bytes in base64")
		}
		return secret, nil
	}
	path := filepath.Join(dataDir, secretFile)
	b, err := os.ReadFile(path)
	if err == nil {
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(secret) < 32 {
			return nil, fmt.Errorf("%s does not hold a base64 secret of at least 32 bytes", path)
		}
		return secret, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	// O_EXCL: two processes starting at once must not each create a different secret.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return signingSecret(dataDir, "")
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(secret) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return secret, f.Close()
}
