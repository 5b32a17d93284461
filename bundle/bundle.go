// Package bundle writes and reads export bundles: one gzip-compressed tar file that holds a
// tenant's whole log in a form its owner can keep and verify forever, with vakt or without it.
//
//	manifest.json          what the bundle is: format, tenant, origin, entry count, time
//	key.vkey               the note verifier key of the tenant's checkpoints
//	README.txt             how to verify the bundle with any RFC 6962 / RFC 8785 tools
//	checkpoints/<size>.txt every signed checkpoint kept, one file each
//	leaves.bin             the leaf hash the log stored for each entry, 32 bytes each, in order
//	entries.ndjson         every entry, one per line, exactly as served (canonical JSON), in
//	                       sequence order
package bundle

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/merkle"
)

// Format names this layout in the manifest.
const Format = "vakt-bundle/1"

// Manifest describes a bundle.
type Manifest struct {
	Format      string    `json:"format"`
	Tenant      string    `json:"tenant"`
	Origin      string    `json:"origin"`
	Entries     int64     `json:"entries"`
	Checkpoints int       `json:"checkpoints"`
	Created     time.Time `json:"created"`
}

// Source is what a bundle is made from.
type Source struct {
	Tenant      string
	Origin      string
	VerifierKey string
	Checkpoints []accesslog.SignedCheckpoint
	// Scan calls fn for every entry in sequence order with its stored leaf hash.
	Scan func(ctx context.Context, fn func(*accesslog.Stored, merkle.Hash) error) error
}

const readme = `This bundle holds the complete access log of one tenant of a vakt instance, as
kept under the Patient Data Act (PDL), in a form you can verify without vakt.

entries.ndjson holds every entry in sequence order, one per line, exactly as the service served
it: RFC 8785 (JSON Canonicalization Scheme) canonical JSON, with its sequence number "seq".

The entries are the leaves of an RFC 6962 Merkle tree in sequence order (leaf index = seq - 1).
A leaf's hash is SHA-256(0x00 || the line's bytes). leaves.bin holds the hash the log stored for
each entry (32 bytes each, same order); it lets a verifier name a changed entry exactly.

checkpoints/ holds signed checkpoints (C2SP tlog-checkpoint in the signed-note format of
golang.org/x/mod/sumdb/note, Ed25519). Each commits to the tree of its first lines: origin,
tree size, base64 root hash. key.vkey is the note verifier key; compare it with the key you
obtained from the service (GET /api/v1/checkpoint/key) before trusting it.

To verify: check each checkpoint's signature with the key; hash every line as above; build the
RFC 6962 tree; at each checkpoint's size, compare the root. Or run: vakt verify <this file>.
`

// Write writes a bundle of src to w. It needs scratch space for the entries (a tar header
// states a file's size before its contents), which it takes in the system's temporary directory.
func Write(ctx context.Context, w io.Writer, src Source) (Manifest, error) {
	entries, err := os.CreateTemp("", "vakt-entries-*")
	if err != nil {
		return Manifest{}, err
	}
	defer os.Remove(entries.Name())
	defer entries.Close()
	leaves, err := os.CreateTemp("", "vakt-leaves-*")
	if err != nil {
		return Manifest{}, err
	}
	defer os.Remove(leaves.Name())
	defer leaves.Close()

	ew, lw := bufio.NewWriterSize(entries, 1<<20), bufio.NewWriterSize(leaves, 1<<16)
	var n int64
	err = src.Scan(ctx, func(s *accesslog.Stored, leaf merkle.Hash) error {
		n++
		ew.Write(s.JSON)
		ew.WriteByte('\n')
		_, err := lw.Write(leaf[:])
		return err
	})
	if err != nil {
		return Manifest{}, err
	}
	if err := ew.Flush(); err != nil {
		return Manifest{}, err
	}
	if err := lw.Flush(); err != nil {
		return Manifest{}, err
	}

	m := Manifest{Format: Format, Tenant: src.Tenant, Origin: src.Origin, Entries: n, Checkpoints: len(src.Checkpoints), Created: time.Now().UTC()}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: m.Created, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	addBytes := func(name string, b []byte) error { return add(name, int64(len(b)), strings.NewReader(string(b))) }
	mj, _ := json.MarshalIndent(m, "", "  ")
	if err := addBytes("manifest.json", append(mj, '\n')); err != nil {
		return Manifest{}, err
	}
	if err := addBytes("key.vkey", []byte(src.VerifierKey+"\n")); err != nil {
		return Manifest{}, err
	}
	if err := addBytes("README.txt", []byte(readme)); err != nil {
		return Manifest{}, err
	}
	for _, cp := range src.Checkpoints {
		if err := addBytes(fmt.Sprintf("checkpoints/%020d.txt", cp.Size), cp.Note); err != nil {
			return Manifest{}, err
		}
	}
	for _, f := range []struct {
		name string
		file *os.File
	}{{"leaves.bin", leaves}, {"entries.ndjson", entries}} {
		size, err := f.file.Seek(0, io.SeekEnd)
		if err != nil {
			return Manifest{}, err
		}
		if _, err := f.file.Seek(0, io.SeekStart); err != nil {
			return Manifest{}, err
		}
		if err := add(f.name, size, bufio.NewReaderSize(f.file, 1<<20)); err != nil {
			return Manifest{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Manifest{}, err
	}
	return m, gz.Close()
}

// Reader reads a bundle: Open reads everything up to the entries, Entries streams them.
type Reader struct {
	Manifest    Manifest
	VerifierKey string
	Checkpoints [][]byte

	tr      *tar.Reader
	entries io.Reader // the tar stream at entries.ndjson, or a scratch copy of it
	spooled *os.File  // that scratch copy, if entries.ndjson came before the manifest or key
	leaves  *os.File
}

// Open reads the bundle's manifest, key, checkpoints and leaf hashes from r and stops at the
// entries. A bundle as written has the entries last, so they stream; one that was unpacked and
// packed again in another order still opens (the entries are then copied aside first).
func Open(r io.Reader) (*Reader, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("bundle: not a gzip file: %w", err)
	}
	b := &Reader{tr: tar.NewReader(gz)}
	for {
		h, err := b.tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("bundle: %w", err)
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		name := strings.TrimPrefix(h.Name, "./")
		if name == "entries.ndjson" {
			if b.entries != nil {
				b.Close()
				return nil, errors.New("bundle: entries.ndjson appears twice")
			}
			if b.Manifest.Format != "" && b.VerifierKey != "" {
				b.entries = b.tr
				break
			}
			if err := b.spool(); err != nil {
				b.Close()
				return nil, err
			}
			continue
		}
		if err := b.read(name); err != nil {
			b.Close()
			return nil, err
		}
	}
	switch {
	case b.entries == nil:
		b.Close()
		return nil, errors.New("bundle: incomplete: no entries.ndjson")
	case b.Manifest.Format == "" || b.VerifierKey == "":
		b.Close()
		return nil, errors.New("bundle: incomplete: it needs manifest.json and key.vkey")
	}
	return b, nil
}

// spool copies entries.ndjson aside, for a bundle whose manifest or key follows it.
func (b *Reader) spool() error {
	f, err := os.CreateTemp("", "vakt-entries-*")
	if err != nil {
		return err
	}
	b.spooled = f
	if _, err := io.Copy(f, b.tr); err != nil {
		return fmt.Errorf("bundle: entries: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	b.entries = bufio.NewReaderSize(f, 1<<20)
	return nil
}

func (b *Reader) read(name string) error {
	tr := b.tr
	switch {
	case name == "manifest.json":
		if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&b.Manifest); err != nil {
			return fmt.Errorf("bundle: manifest: %w", err)
		}
		if b.Manifest.Format != Format {
			return fmt.Errorf("bundle: format %q, this vakt reads %q", b.Manifest.Format, Format)
		}
	case name == "key.vkey":
		k, err := io.ReadAll(io.LimitReader(tr, 4096))
		if err != nil {
			return err
		}
		b.VerifierKey = strings.TrimSpace(string(k))
	case strings.HasPrefix(name, "checkpoints/"):
		if _, err := strconv.ParseUint(strings.TrimSuffix(path.Base(name), ".txt"), 10, 64); err != nil {
			return fmt.Errorf("bundle: unexpected file %q", name)
		}
		c, err := io.ReadAll(io.LimitReader(tr, 1<<16))
		if err != nil {
			return err
		}
		b.Checkpoints = append(b.Checkpoints, c)
	case name == "leaves.bin":
		// Kept aside: the entries follow and are checked against it.
		f, err := os.CreateTemp("", "vakt-leaves-*")
		if err != nil {
			return err
		}
		b.leaves = f
		if _, err := io.Copy(f, tr); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
	case name == "README.txt":
	default:
		return fmt.Errorf("bundle: unexpected file %q", name)
	}
	return nil
}

// HasLeaves reports whether the bundle holds stored leaf hashes.
func (b *Reader) HasLeaves() bool { return b.leaves != nil }

// Entries calls fn for every line of entries.ndjson in order, with the stored leaf hash of the
// same position (nil when the bundle has none for it).
func (b *Reader) Entries(fn func(json []byte, leaf *merkle.Hash) error) error {
	var lr *bufio.Reader
	if b.leaves != nil {
		lr = bufio.NewReaderSize(b.leaves, 1<<16)
	}
	sc := bufio.NewScanner(b.entries)
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	for sc.Scan() {
		var leaf *merkle.Hash
		if lr != nil {
			var h merkle.Hash
			if _, err := io.ReadFull(lr, h[:]); err == nil {
				leaf = &h
			}
		}
		if err := fn(sc.Bytes(), leaf); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("bundle: entries: %w", err)
	}
	return nil
}

// Close releases the scratch files.
func (b *Reader) Close() error {
	for _, f := range []**os.File{&b.leaves, &b.spooled} {
		if *f != nil {
			(*f).Close()
			os.Remove((*f).Name())
			*f = nil
		}
	}
	return nil
}
