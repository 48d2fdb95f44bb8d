package fleet

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A connection error names the server without the credentials in its URL:
// errors end up in logs.
func TestConnectErrorHidesTheCredentialsInTheURL(t *testing.T) {
	for _, u := range []string{"nats://admin:s3cret@127.0.0.1:1", "nats://127.0.0.1:2,nats://s3cret@127.0.0.1:1"} {
		_, err := Connect(ConnectOptions{URL: u})
		if err == nil {
			t.Fatalf("Connect(%s) = nil error, want a refused connection", u)
		}
		if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("Connect(%s) = %v, want the server named without its credentials", u, err)
		}
	}
}

// StartServer on a port another listener holds fails with the bind error
// at once, rather than waiting for a start the embedded server never makes.
func TestStartServerOnAPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		srv, err := StartServer(ServerOptions{StoreDir: t.TempDir(), Listen: ln.Addr().String()})
		if err == nil {
			srv.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("StartServer on %s: %v; want address already in use", ln.Addr(), err)
		}
	case <-time.After(20 * time.Second): // the server's own wait is 30s
		t.Fatal("StartServer on a port in use is still waiting after 20s")
	}
}
