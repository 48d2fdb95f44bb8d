package fleet

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hotlua/hotlua/engine"
)

// BenchmarkPublishToEveryACK measures one release of a changed script, from
// the start of Publish (pack already done) to the ACK of every node, each
// node with two shards, against an embedded server on loopback; every node
// runs in this process, so the machine's two cores serve them all. It
// reports the median and the 99th percentile of the iterations. The
// baseline, local-deploy, is what the same change costs one node without
// the fleet: swapping its root and Shards.Deploy.
func BenchmarkPublishToEveryACK(b *testing.B) {
	for _, n := range []int{5, 20} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			c := newCluster(b)
			nodes := c.startNodes(n)
			ctx := context.Background()
			statuses, err := c.fleet.WatchStatuses(ctx)
			if err != nil {
				b.Fatal(err)
			}
			bundles := make([]*Bundle, b.N+1)
			for i := range bundles {
				bundles[i] = pack(b, map[string]string{"game/unit.lua": unitScript(fmt.Sprint(i), "")})
			}
			durations := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				rel, err := c.fleet.Publish(ctx, bundles[i], PublishOptions{})
				if err != nil {
					b.Fatal(err)
				}
				acked := make(map[string]bool)
				for len(acked) < len(nodes) {
					s := <-statuses
					if s.State == StateACK && s.Revision == rel.Revision {
						acked[s.Node] = true
					}
				}
				durations = append(durations, time.Since(start))
			}
			b.StopTimer()
			reportPercentiles(b, durations)
		})
	}
	b.Run("local-deploy", func(b *testing.B) {
		cache, err := OpenCache(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		sh, err := engine.NewShards(engine.Options{Roots: []string{cache.Root()}, Logger: quiet}, "s1", "s2")
		if err != nil {
			b.Fatal(err)
		}
		defer sh.Close()
		bundles := make([]*Bundle, b.N)
		for i := range bundles {
			bundles[i] = pack(b, map[string]string{"game/unit.lua": unitScript(fmt.Sprint(i), "")})
		}
		durations := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			start := time.Now()
			if err := cache.store(bundles[i].Digest, bundles[i].Archive, DefaultMaxBundleBytes); err != nil {
				b.Fatal(err)
			}
			if err := cache.link("current", bundles[i].Digest); err != nil {
				b.Fatal(err)
			}
			if _, err := sh.Deploy(context.Background()); err != nil {
				b.Fatal(err)
			}
			durations = append(durations, time.Since(start))
		}
		b.StopTimer()
		reportPercentiles(b, durations)
	})
}

// reportPercentiles reports the median and 99th percentile of durations.
func reportPercentiles(b *testing.B, durations []time.Duration) {
	slices.Sort(durations)
	at := func(p float64) float64 { return float64(durations[int(p*float64(len(durations)-1))].Nanoseconds()) }
	b.ReportMetric(at(0.5), "p50-ns")
	b.ReportMetric(at(0.99), "p99-ns")
}
