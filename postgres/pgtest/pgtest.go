// Package pgtest gives tests a real PostgreSQL server: a throwaway cluster started from the
// installed server binaries (initdb and pg_ctl, on a random port, in a temporary directory), or
// the server named by VAKT_TEST_POSTGRES_DSN. Each test gets a database of its own.
//
// Where PostgreSQL is missing, tests are skipped, except on CI (CI=true), where a missing server
// is a failure: CI must install it (Debian: postgresql).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names an existing server to use instead of a throwaway cluster. Its user must be
// allowed to create databases.
const EnvDSN = "VAKT_TEST_POSTGRES_DSN"

var (
	once    sync.Once
	cluster *Cluster
	baseDSN string
	errNone error
	dbs     atomic.Int64
)

// Cluster is a throwaway PostgreSQL cluster.
type Cluster struct {
	dir, data, pgCtl string
	Port             int
	cred             *syscall.Credential // run as this user when we are root (initdb refuses root)
}

// DSN returns the connection string of a fresh, empty database for t.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if dsn := os.Getenv(EnvDSN); dsn != "" {
			baseDSN = dsn
			return
		}
		cluster, errNone = Start()
		if errNone == nil {
			baseDSN = cluster.DSN("postgres")
		}
	})
	if errNone != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required on CI and could not be started: %v", errNone)
		}
		t.Skipf("PostgreSQL is not available here (%v); set %s or install postgresql", errNone, EnvDSN)
	}
	name := fmt.Sprintf("vakt_test_%d_%d", os.Getpid(), dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, baseDSN)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, baseDSN); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	cfg, err := pgx.ParseConfig(baseDSN)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

// Main runs a package's tests and stops the throwaway cluster afterwards, if one was started.
// Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		cluster.Stop()
	}
	os.Exit(code)
}

// serverBin finds a PostgreSQL server program: on PATH, or in Debian's versioned directory.
func serverBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found (on PATH or in /usr/lib/postgresql/*/bin)", name)
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&0o111 != 0
}

// Start creates and starts a cluster in a new temporary directory.
func Start() (*Cluster, error) {
	initdb, err := serverBin("initdb")
	if err != nil {
		return nil, err
	}
	pgCtl, err := serverBin("pg_ctl")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "vakt-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, data: filepath.Join(dir, "data"), pgCtl: pgCtl}
	if os.Geteuid() == 0 {
		// The server will not run as root; use the postgres account the package creates.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root, and there is no postgres user to run the server as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if out, err := c.run(initdb, "-D", c.data, "-U", "vakt", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if c.Port, err = freePort(); err != nil {
		return nil, err
	}
	if err := c.Resume(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return nil, fmt.Errorf("%v\n%s", err, log)
	}
	return c, nil
}

// DSN is the connection string of database db on the cluster.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://vakt@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Stop stops the cluster at once and removes its files.
func (c *Cluster) Stop() {
	c.run(c.pgCtl, "-D", c.data, "-m", "immediate", "-w", "stop")
	os.RemoveAll(c.dir)
}

// Shared returns the throwaway cluster the package's tests use, so that a test can stop and
// start it; it skips the test when the tests run against VAKT_TEST_POSTGRES_DSN instead.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	DSN(t) // starts the cluster if needed
	if cluster == nil {
		t.Skipf("the tests use %s, which they cannot restart", EnvDSN)
	}
	return cluster
}

// Halt stops the server as an operator or a failure would (mode: smart, fast or immediate);
// its files stay for Resume.
func (c *Cluster) Halt(mode string) error {
	if out, err := c.run(c.pgCtl, "-D", c.data, "-m", mode, "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// Resume starts a halted server again on the same port.
func (c *Cluster) Resume() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", c.Port, c.dir)
	if out, err := c.run(c.pgCtl, "-D", c.data, "-o", opts, "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %v\n%s", err, out)
	}
	return nil
}

func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(prog, args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
