package fleet

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Server is a NATS server with JetStream run inside this process: the
// one-machine default, and what tests and the example use. It is safe for
// concurrent use.
type Server struct {
	ns *server.Server
}

// ServerOptions configures an embedded server.
type ServerOptions struct {
	// StoreDir is where JetStream keeps releases, statuses and bundles.
	// Required.
	StoreDir string
	// Listen is the client address, host:port. Default: 127.0.0.1:4222;
	// port 0 picks a free one.
	Listen string
}

// StartServer starts an embedded NATS server with JetStream and waits until
// it accepts clients.
func StartServer(opts ServerOptions) (*Server, error) {
	if opts.StoreDir == "" {
		return nil, errors.New("fleet: ServerOptions.StoreDir is required")
	}
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:4222"
	}
	host, portText, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("fleet: listen address %q: %w", opts.Listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("fleet: listen address %q: bad port", opts.Listen)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	} else {
		// The embedded server reports no error for a port in use: it
		// would wait for its own start until ReadyForConnections gives up.
		ln, err := net.Listen("tcp", opts.Listen)
		if err != nil {
			return nil, fmt.Errorf("fleet: %w", err)
		}
		ln.Close()
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "hotlua",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   opts.StoreDir,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: nats server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("fleet: the embedded nats server did not start in 30s")
	}
	return &Server{ns: ns}, nil
}

// URL returns the URL clients connect to.
func (s *Server) URL() string { return s.ns.ClientURL() }

// Close stops the server and waits until it has stopped.
func (s *Server) Close() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// DefaultURL is the server address when neither a flag nor $NATS_URL gives
// one.
const DefaultURL = "nats://127.0.0.1:4222"

// ConnectOptions are how a client finds and authenticates to NATS, as the
// NATS tools take them: files and environment variables, never secrets
// given on a command line. The zero value connects to $NATS_URL or
// DefaultURL without credentials.
type ConnectOptions struct {
	URL       string // server URLs, comma-separated; default $NATS_URL, else DefaultURL
	Name      string // the connection's name, shown by the server
	CredsFile string // a NATS credentials file (JWT and NKey seed); default $NATS_CREDS
	NKeyFile  string // a file holding an NKey seed; default $NATS_NKEY
	TokenFile string // a file holding a token; the token may instead be in $NATS_TOKEN
	CAFile    string // a CA certificate to verify the server; default $NATS_CA
	CertFile  string // a client certificate for mutual TLS; default $NATS_CERT
	KeyFile   string // its key; default $NATS_KEY
	// Retry keeps a connection that cannot be made now trying in the
	// background (a node starting while NATS is away); otherwise Connect
	// fails at once.
	Retry bool
}

func orEnv(v, env string) string {
	if v != "" {
		return v
	}
	return os.Getenv(env)
}

// redactURL returns the server URLs urls with the user information (a
// user and password, or a token) of each replaced, for error messages.
func redactURL(urls string) string {
	list := strings.Split(urls, ",")
	for i, u := range list {
		if pu, err := url.Parse(strings.TrimSpace(u)); err == nil && pu.User != nil {
			pu.User = url.User("REDACTED")
			list[i] = pu.String()
		}
	}
	return strings.Join(list, ",")
}

// Connect connects to NATS with opts. It reconnects forever after losing
// the server.
func Connect(opts ConnectOptions) (*nats.Conn, error) {
	urls := orEnv(opts.URL, "NATS_URL")
	if urls == "" {
		urls = DefaultURL
	}
	o := []nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	if opts.Name != "" {
		o = append(o, nats.Name(opts.Name))
	}
	if opts.Retry {
		o = append(o, nats.RetryOnFailedConnect(true))
	}
	if f := orEnv(opts.CredsFile, "NATS_CREDS"); f != "" {
		o = append(o, nats.UserCredentials(f))
	}
	if f := orEnv(opts.NKeyFile, "NATS_NKEY"); f != "" {
		opt, err := nats.NkeyOptionFromSeed(f)
		if err != nil {
			return nil, fmt.Errorf("fleet: nkey seed %s: %w", f, err)
		}
		o = append(o, opt)
	}
	token := os.Getenv("NATS_TOKEN")
	if opts.TokenFile != "" {
		data, err := os.ReadFile(opts.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("fleet: token: %w", err)
		}
		token = strings.TrimSpace(string(data))
	}
	if token != "" {
		o = append(o, nats.Token(token))
	}
	if f := orEnv(opts.CAFile, "NATS_CA"); f != "" {
		o = append(o, nats.RootCAs(f))
	}
	cert, key := orEnv(opts.CertFile, "NATS_CERT"), orEnv(opts.KeyFile, "NATS_KEY")
	if cert != "" || key != "" {
		if cert == "" || key == "" {
			return nil, errors.New("fleet: a client certificate needs both its certificate and its key file")
		}
		o = append(o, nats.ClientCert(cert, key))
	}
	nc, err := nats.Connect(urls, o...)
	if err != nil {
		return nil, fmt.Errorf("fleet: connect to %s: %w", redactURL(urls), err)
	}
	return nc, nil
}
