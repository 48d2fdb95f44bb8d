package fleet

import (
	"strings"
	"testing"
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
