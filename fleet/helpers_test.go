package fleet

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hotlua/hotlua/bindings"
	"github.com/hotlua/hotlua/engine"
	"github.com/nats-io/nats.go"
)

// patience bounds every wait on an event; it only matters when a test fails.
const patience = 30 * time.Second

var quiet = slog.New(slog.DiscardHandler)

// unitScript is a class whose speak method returns word, with extra Lua
// appended to the module's top level.
func unitScript(word, extra string) string {
	return `local Unit = hot.class("Unit")
function Unit:speak() return "` + word + `" end
` + extra + `
return Unit
`
}

// writeTree writes files into a fresh directory and returns it.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func pack(t testing.TB, files map[string]string) *Bundle {
	t.Helper()
	b, err := Pack(writeTree(t, files))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cluster is an embedded server and the fleet "game" on it.
type cluster struct {
	t     testing.TB
	store string
	srv   *Server
	fleet *Fleet
}

func newCluster(t testing.TB) *cluster {
	t.Helper()
	c := &cluster{t: t, store: t.TempDir()}
	c.srv = c.startServer("127.0.0.1:0")
	f, err := Open(context.Background(), connect(t, c.srv.URL(), false), "game")
	if err != nil {
		t.Fatal(err)
	}
	c.fleet = f
	return c
}

// startServer starts the embedded server on the cluster's store.
func (c *cluster) startServer(listen string) *Server {
	c.t.Helper()
	srv, err := StartServer(ServerOptions{StoreDir: c.store, Listen: listen})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(srv.Close)
	return srv
}

func connect(t testing.TB, url string, retry bool) *nats.Conn {
	t.Helper()
	nc, err := Connect(ConnectOptions{URL: url, Retry: retry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// testNode is one node: its cache, its shards and the object each shard made.
type testNode struct {
	name    string
	cache   *Cache
	shards  *engine.Shards
	node    *Node
	objects []*engine.Object
}

// startNode runs a node called name with two shards in cacheDir (a fresh
// one when empty); its scripts see the global region.
func (c *cluster) startNode(name, region, cacheDir string, opt ...func(*engine.Options)) *testNode {
	t := c.t
	t.Helper()
	if cacheDir == "" {
		cacheDir = t.TempDir()
	}
	cache, err := OpenCache(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	reg := bindings.New()
	reg.Value("region", region)
	o := engine.Options{Roots: []string{cache.Root()}, Bindings: reg, Logger: quiet}
	for _, f := range opt {
		f(&o)
	}
	sh, err := engine.NewShards(o, "s1", "s2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sh.Close() })
	n := &testNode{name: name, cache: cache, shards: sh}
	n.follow(c, c.srv.URL())
	return n
}

// follow starts following the fleet at url.
func (n *testNode) follow(c *cluster, url string) {
	node, err := Follow(connect(c.t, url, true), Shards(n.shards), NodeOptions{Fleet: "game", Node: n.name, Cache: n.cache, Logger: quiet, Heartbeat: time.Second})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { node.Close() })
	n.node = node
}

// makeObjects gives each shard one live Unit.
func (n *testNode) makeObjects(t testing.TB) {
	t.Helper()
	for _, s := range n.shards.Names() {
		obj, err := n.shards.Shard(s).New(context.Background(), "Unit")
		if err != nil {
			t.Fatalf("node %s shard %s: %v", n.name, s, err)
		}
		n.objects = append(n.objects, obj)
	}
}

// speak returns what every live object of n says, checking they agree.
func (n *testNode) speak(t testing.TB) string {
	t.Helper()
	var word string
	for i, obj := range n.objects {
		v, err := obj.Call(context.Background(), "speak")
		if err != nil {
			t.Fatalf("node %s: %v", n.name, err)
		}
		if i > 0 && v.String() != word {
			t.Fatalf("node %s: shards disagree: %q and %q", n.name, word, v.String())
		}
		word = v.String()
	}
	return word
}

func (n *testNode) generations() map[string]uint64 { return Shards(n.shards).generations() }

// generationsOf returns each node's shard generations, by node.
func generationsOf(nodes []*testNode) map[string]map[string]uint64 {
	g := make(map[string]map[string]uint64)
	for _, n := range nodes {
		g[n.name] = n.generations()
	}
	return g
}

// startNodes runs count nodes, node-0 ... node-<count-1>, all in region
// "eu", and waits until the fleet sees each of them.
func (c *cluster) startNodes(count int) []*testNode {
	c.t.Helper()
	var nodes []*testNode
	for i := range count {
		nodes = append(nodes, c.startNode(nodeName(i), "eu", ""))
	}
	c.waitLive(nodes)
	return nodes
}

func nodeName(i int) string { return "node-" + string(rune('0'+i/10)) + string(rune('0'+i%10)) }

// waitLive waits until every node has written a status.
func (c *cluster) waitLive(nodes []*testNode) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for {
		live, err := c.fleet.LiveNodes(ctx, time.Hour)
		if err != nil {
			c.t.Fatal(err)
		}
		seen := make(map[string]bool)
		for _, n := range live {
			seen[n] = true
		}
		all := true
		for _, n := range nodes {
			all = all && seen[n.name]
		}
		if all {
			return
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("nodes not live after %v: have %v", patience, live)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// answers waits until every node has answered revision rev (ACK or NACK)
// and returns the answers by node.
func (c *cluster) answers(nodes []*testNode, rev uint64) map[string]Status {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	ch, err := c.fleet.WatchStatuses(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	want := make(map[string]bool)
	for _, n := range nodes {
		want[n.name] = true
	}
	got := make(map[string]Status)
	for len(got) < len(want) {
		s, ok := <-ch
		if !ok {
			c.t.Fatalf("answers to revision %d after %v: %v", rev, patience, got)
		}
		if want[s.Node] && s.Answers(rev) {
			got[s.Node] = s
		}
	}
	return got
}

// committer commits prepared reloads of shards at the "safe point" of a
// host loop until the test ends.
func committer(t testing.TB, sh *engine.Shards) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for _, n := range sh.Names() {
					sh.Shard(n).CommitPending()
				}
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })
}
