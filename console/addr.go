package console

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ListenOptions configures [Listen], which copies it.
type ListenOptions struct {
	// AllowRemote permits a tcp address that is not loopback. Default
	// false: anyone who can reach the port and learns the token can run
	// code in the program.
	AllowRemote bool
}

// ErrNotLoopback is what the error of [Listen] wraps when it refuses a tcp
// address that is not loopback because AllowRemote is not set.
var ErrNotLoopback = errors.New("remote access must be allowed explicitly")

// DefaultAddr returns the default console address of this process:
// unix:DIR/console-PID.sock, where DIR is $XDG_RUNTIME_DIR/hotlua or else
// hotlua-UID in the temporary directory. [Listen] creates DIR with mode 0700.
func DefaultAddr() string {
	dir := filepath.Join(os.TempDir(), "hotlua-"+strconv.Itoa(os.Getuid()))
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
		dir = filepath.Join(rt, "hotlua")
	}
	return "unix:" + filepath.Join(dir, fmt.Sprintf("console-%d.sock", os.Getpid()))
}

// parseAddr splits "unix:PATH" or "tcp:HOST:PORT" into a network and an
// address for the net package.
func parseAddr(addr string) (network, address string, err error) {
	network, address, ok := strings.Cut(addr, ":")
	if !ok || address == "" || (network != "unix" && network != "tcp") {
		return "", "", fmt.Errorf("console: address %q is not unix:PATH or tcp:HOST:PORT", addr)
	}
	return network, address, nil
}

// Listen listens on addr, "unix:PATH" or "tcp:HOST:PORT", for [Serve].
//
// For unix, the socket's directory is created with mode 0700 if missing and
// must belong to this user; a stale socket left by a dead process is
// replaced; the socket gets mode 0600 and is removed when the listener is
// closed. For tcp, HOST must resolve to loopback addresses only, unless
// opts.AllowRemote is set.
func Listen(addr string, opts ListenOptions) (net.Listener, error) {
	network, address, err := parseAddr(addr)
	if err != nil {
		return nil, err
	}
	if network == "tcp" {
		if err := checkLoopback(address, opts.AllowRemote); err != nil {
			return nil, err
		}
		return net.Listen("tcp", address)
	}
	if err := prepareSocketDir(filepath.Dir(address)); err != nil {
		return nil, err
	}
	if err := removeStaleSocket(address); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", address)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(address, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

func checkLoopback(address string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	if allowRemote {
		return nil
	}
	if host == "" {
		return fmt.Errorf("console: tcp address %q listens on every interface (give a loopback host); %w", address, ErrNotLoopback)
	}
	ips, err := net.DefaultResolver.LookupIPAddr(context.Background(), host)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return fmt.Errorf("console: tcp address %q is not loopback (%s); %w", address, ip.IP, ErrNotLoopback)
		}
	}
	return nil
}

// prepareSocketDir creates dir with mode 0700 if missing and checks that it
// belongs to this user.
func prepareSocketDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("console: socket directory %s belongs to uid %d, not to this user", dir, uid)
	}
	return nil
}

// removeStaleSocket removes a socket at path that nobody listens on.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("console: %s exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("console: %s is in use by another process", path)
	}
	return os.Remove(path)
}

// dial connects to addr, "unix:PATH" or "tcp:HOST:PORT".
func dial(ctx context.Context, addr string) (net.Conn, error) {
	network, address, err := parseAddr(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return conn, nil
}
