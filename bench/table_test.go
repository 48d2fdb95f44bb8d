package bench

import (
	"math"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
}

func TestFormatValue(t *testing.T) {
	for _, c := range []struct {
		v    float64
		unit string
		want string
	}{
		{412.4, "ns/object", "412 ns/object"},
		{1_250_000, "ns/op", "1.25 ms"},
		{96_500, "pause-ns/op", "96.5 µs"},
		{840, "B/object", "840 B/object"},
		{3684, "B/object", "3684 B/object"},
		{300e3, "B/generation", "300 KB/generation"},
		{2.187, "ns/object", "2.19 ns/object"},
		{math.NaN(), "ns/op", "n/a"},
	} {
		if got := FormatValue(c.v, c.unit); got != c.want {
			t.Errorf("FormatValue(%v, %q) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
	for r, want := range map[float64]string{1.0712: "1.07x", 42.51: "42.5x", 3120.4: "3120x", 0.001234: "0.00123x"} {
		if got := formatRatio(r); got != want {
			t.Errorf("formatRatio(%v) = %q, want %q", r, got, want)
		}
	}
}

const sampleOutput = `go: go1.26.8
cores: 2
goos: linux
cpu: AMD EPYC
BenchmarkCall/engine-2         	  387454	       300 ns/op	      44 B/op	       1 allocs/op
BenchmarkCall/engine-2         	  387454	       340 ns/op	      44 B/op	       1 allocs/op
BenchmarkCall/engine-2         	  387454	       320 ns/op	      44 B/op	       1 allocs/op
BenchmarkCall/raw-fn-once-2    	  481156	       300 ns/op	      43 B/op	       1 allocs/op
BenchmarkMem/engine-2          	       1	 331740013 ns/op	      3000 B/object
BenchmarkMem/raw-2             	       1	 675634069 ns/op	      2900 B/object
PASS
`

func TestParseAndWriteTable(t *testing.T) {
	res, m, err := Parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	if got := res[Metric{"BenchmarkCall/engine", "ns/op"}]; len(got) != 3 || got[1] != 340 {
		t.Errorf("BenchmarkCall/engine ns/op = %v, want [300 340 320]", got)
	}
	if m != (Machine{CPU: "AMD EPYC", Go: "go1.26.8", Cores: "2"}) {
		t.Errorf("machine = %+v", m)
	}
	rows := []Row{
		{Title: "call", Ours: Metric{"BenchmarkCall/engine", "ns/op"}, Base: Metric{"BenchmarkCall/raw-fn-once", "ns/op"}, Target: MaxRatio(1.05)},
		{Title: "mem", Ours: Metric{"BenchmarkMem/engine", "B/object"}, Base: Metric{"BenchmarkMem/raw", "B/object"}, Target: MaxOver(64, "B/object")},
		{Title: "none", Ours: Metric{"BenchmarkNone/engine", "ns/op"}, Base: Metric{"BenchmarkCall/raw-fn-once", "ns/op"}, Target: MaxValue(3e6, "ns/op")},
	}
	var b strings.Builder
	if err := WriteTable(&b, rows, res, m); err != nil {
		t.Fatal(err)
	}
	want := `Machine: AMD EPYC, 2 cores, go1.26.8. Medians of 3 runs.

| benchmark | ours | baseline | ratio | target |
|---|--:|--:|--:|---|
| call | 320 ns | 300 ns | 1.07x | ≤ 1.05x **missed** |
| mem | 3000 B/object | 2900 B/object | 1.03x | ≤ baseline + 64 B/object **missed** |
| none | n/a | 300 ns | n/a | ≤ 3 ms |
`
	if got := b.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}
