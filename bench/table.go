package bench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Metric names one measurement: a benchmark as go test prints it, without
// its -GOMAXPROCS suffix ("BenchmarkCall/engine"), and a unit it reports
// ("ns/op", or a custom one such as "B/object" or "cpu-ns/op").
type Metric struct {
	Bench, Unit string
}

// Target is the goal a row is held to.
type Target struct {
	Text string                        // as shown in the table: "≤ 1.05x"
	Met  func(ours, base float64) bool // whether the medians meet it
}

// MaxRatio is the target ours/baseline ≤ r.
func MaxRatio(r float64) Target {
	return Target{
		Text: "≤ " + formatRatio(r),
		Met:  func(ours, base float64) bool { return ours <= r*base },
	}
}

// MaxValue is the target ours ≤ v, with v in unit (the row's unit, such as
// "ns/op" or "B/generation").
func MaxValue(v float64, unit string) Target {
	return Target{
		Text: "≤ " + FormatValue(v, unit),
		Met:  func(ours, _ float64) bool { return ours <= v },
	}
}

// MaxOver is the target ours ≤ baseline + d, with d in unit.
func MaxOver(d float64, unit string) Target {
	return Target{
		Text: "≤ baseline + " + FormatValue(d, unit),
		Met:  func(ours, base float64) bool { return ours <= base+d },
	}
}

// Row is one line of the table: ours against a baseline measured in the
// same run, and the target when there is one (Met nil: none).
type Row struct {
	Title      string
	Ours, Base Metric
	Target     Target
}

// row returns the row comparing the sub-benchmarks ours and base of the
// benchmark group in one unit.
func row(title, group, ours, base, unit string, target Target) Row {
	return Row{
		Title:  title,
		Ours:   Metric{group + "/" + ours, unit},
		Base:   Metric{group + "/" + base, unit},
		Target: target,
	}
}

// tick returns the row comparing the engine's tick, per object, with the
// tick variant base of BenchmarkTick.
func tick(title, base string, target Target) Row {
	return row("tick of 10k objects, per object, vs "+title, "BenchmarkTick", "engine", base, "ns/object", target)
}

// pause returns the row comparing the commit pause with n live objects to a
// per-object setmetatable swap of n tables.
func pause(n string) Row {
	group := "BenchmarkCommitPause/objects=" + n
	return Row{
		Title:  "reload commit pause, " + n + " live objects, vs per-object setmetatable",
		Ours:   Metric{group + "/engine", "pause-ns/op"},
		Base:   Metric{group + "/setmetatable", "ns/op"},
		Target: MaxValue(100e3, "ns/op"),
	}
}

// generation returns the row comparing the heap one generation of a
// project of files files keeps with a raw state's.
func generation(files, project string) Row {
	return row("memory per generation, shared protos (engine less its protos), "+project+", vs raw LState",
		"BenchmarkMemoryGeneration/files="+files, "engine", "raw", "B/generation", MaxValue(300e3, "B/generation"))
}

// classPause returns the row of the commit pause with n classes and a
// million live objects, beside the whole reload, held to limit ns; with
// hook "other-class", another class of the project has a __migrate hook.
func classPause(n, hook string, limit float64) Row {
	group := "BenchmarkCommitPauseClasses/classes=" + n + "/objects=1000000/hook=" + hook
	title := "reload commit pause, " + n + " classes, 1000000 live objects, vs the whole reload"
	if hook != "none" {
		title = "reload commit pause, " + n + " classes, 1000000 live objects, another class with a __migrate hook, vs the whole reload"
	}
	return Row{
		Title:  title,
		Ours:   Metric{group, "pause-ns/op"},
		Base:   Metric{group, "ns/op"},
		Target: MaxValue(limit, "ns/op"),
	}
}

// scale returns the rows of BenchmarkScale for a project of n modules: the
// one-file reload against the raw re-run floor, and the heap.
func scale(n string, reload, whole, generation Target) []Row {
	group := "BenchmarkScale/modules=" + n
	return []Row{
		row("one-file reload, "+n+" modules, vs raw re-run floor (fresh raw state, same compiled modules)",
			group, "engine", "raw-floor", "ns/op", reload),
		row("one-file reload, "+n+" modules, CPU time of the process, vs raw re-run floor",
			group, "engine", "raw-floor", "cpu-ns/op", reload),
		{
			Title:  "one-file reload made by the watcher (Monitor, from its batch to the commit), " + n + " modules, vs raw re-run floor",
			Ours:   Metric{group + "/engine", "watch-ns/op"},
			Base:   Metric{group + "/raw-floor", "ns/op"},
			Target: reload,
		},
		{
			Title:  "one-file reload made by the watcher, " + n + " modules, CPU time of the process from the save, vs raw re-run floor",
			Ours:   Metric{group + "/engine", "watch-cpu-ns/op"},
			Base:   Metric{group + "/raw-floor", "cpu-ns/op"},
			Target: reload,
		},
		row("heap of the whole engine, "+n+" modules, vs raw (its compiled modules and one state)",
			group, "engine", "raw-floor", "B", whole),
		row("heap per generation (a second engine sharing the protos), "+n+" modules, vs raw state",
			group, "engine", "raw-floor", "B/generation", generation),
		row("heap per generation per module, "+n+" modules, vs raw state",
			group, "engine", "raw-floor", "B/module", Target{}),
	}
}

// Rows are the rows the table command prints, in order.
var Rows = slices.Concat([]Row{
	row("Go→Lua method call vs raw CallByParam, function looked up once",
		"BenchmarkCall", "engine", "raw-fn-once", "ns/op", MaxRatio(1.05)),
	row("Go→Lua method call vs raw GetField + CallByParam per call",
		"BenchmarkCall", "engine", "raw-getfield", "ns/op", MaxRatio(1.05)),
	row("batch call, one method over 1,000 objects (Engine.CallEach) vs a raw Go loop of CallByParam, per object",
		"BenchmarkCallEach", "engine", "raw-loop", "per-object-ns/op", Target{
			Text: "< baseline",
			Met:  func(ours, base float64) bool { return ours < base },
		}),
	tick("raw Go loop (GetField + CallByParam)", "raw-go-loop", MaxRatio(1.05)),
	tick("raw Lua loop objs[i]:update(dt)", "raw-lua-loop", Target{}),
	tick("plain Go structs (floor)", "go-structs", Target{}),
	tick("goja, Go loop calling the JS method", "goja-go-loop", Target{}),
	tick("goja, JS loop", "goja-js-loop", Target{}),
	pause("10000"),
	pause("100000"),
	pause("1000000"),
	row("save to committed, 1 of 50 files, 100k live objects, vs fresh engine.New",
		"BenchmarkSaveToCommitted", "one-file", "full-recompile", "ns/op", MaxValue(3e6, "ns/op")),
	row("save to new code through Monitor, 1 of 50 files, vs the same write and a direct Reload",
		"BenchmarkSaveToNewCode", "monitor", "direct-reload", "ns/op", MaxValue(30e6, "ns/op")),
	row("one-file reload of a 50-file project vs raw full recompile",
		"BenchmarkReload", "one-file", "raw-full-recompile", "ns/op", Target{}),
	row("memory per object, made by Engine.New and held as *Object, vs raw table",
		"BenchmarkMemoryObject", "engine-go", "raw-go", "B/object", MaxOver(64, "B/object")),
	row("memory per object, made in Lua by Class.new, vs raw table",
		"BenchmarkMemoryObject", "engine-lua", "raw-lua", "B/object", MaxOver(64, "B/object")),
	generation("50", "the 50-file project"),
	generation("1", "mover.lua alone"),
}, slices.Concat(
	scale("50", Target{}, Target{}, MaxRatio(1.3)),
	scale("500", MaxRatio(1.25), Target{}, MaxRatio(1.3)),
	scale("5000", MaxRatio(1.25), MaxValue(120e6, "B"), MaxRatio(1.3)),
), []Row{
	classPause("500", "none", 100e3),
	classPause("5000", "none", 1e6),
	classPause("500", "other-class", 100e3),
	classPause("5000", "other-class", 1e6),
	row("top level of 500 modules, raw state, with a deadline (SetContext) vs none",
		"BenchmarkContextCheck", "top-level/deadline", "top-level/none", "ns/op", Target{}),
	row("Lua loop of 100k calls, raw state, with a deadline (SetContext) vs none",
		"BenchmarkContextCheck", "loop/deadline", "loop/none", "ns/op", Target{}),
	row("16-shard reload, 1 of 50 files changed, vs one shard's reload",
		"BenchmarkShardReload", "16-shards", "one-shard", "ns/op", Target{
			Text: "< 2 × baseline + 8 ms",
			Met:  func(ours, base float64) bool { return ours < 2*base+16*0.5e6 },
		}),
	row("16-shard reload vs 16 independent engines reloading",
		"BenchmarkShardReload", "16-shards", "16-independent-engines", "ns/op", Target{}),
	row("call throughput, one engine, 4 goroutines vs 1 (ns per call)",
		"BenchmarkCallThroughput", "one-engine/goroutines=4", "one-engine/goroutines=1", "ns/op", Target{}),
	row("call throughput, 4 shards in parallel vs 1 (ns per call)",
		"BenchmarkCallThroughput", "shards=4", "shards=1", "ns/op", Target{}),
	row("host method call from Lua: bindings (methods only) vs hand-written LGFunction",
		"BenchmarkMethodCall", "bindings", "handwritten", "ns/op", MaxRatio(1.5)),
	row("host method call from Lua: bindings with fields vs hand-written with fields",
		"BenchmarkMethodCall", "bindings-fields", "handwritten-fields", "ns/op", MaxRatio(1.5)),
	row("host method call from Lua: gopher-luar vs hand-written LGFunction",
		"BenchmarkMethodCall", "gopher-luar", "handwritten", "ns/op", Target{}),
	row("host function call from Lua: bindings vs hand-written LGFunction",
		"BenchmarkFuncCall", "bindings", "handwritten", "ns/op", MaxRatio(1.5)),
})

// Results holds every value measured, one per run, by metric.
type Results map[Metric][]float64

// Machine describes where the benchmarks ran, from the header of the go
// test output (the cpu line; go and cores are printed by this package's
// TestMain).
type Machine struct {
	CPU, Go, Cores string
}

// String returns "CPU, N cores, goX".
func (m Machine) String() string {
	return fmt.Sprintf("%s, %s cores, %s", m.CPU, m.Cores, m.Go)
}

// procSuffix is the -GOMAXPROCS suffix go test adds to benchmark names.
var procSuffix = regexp.MustCompile(`-\d+$`)

// Parse reads the output of go test -bench: benchmark lines, one value per
// metric per run, and the machine lines of its header.
func Parse(r io.Reader) (Results, Machine, error) {
	res := Results{}
	var m Machine
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ": "); ok {
			switch k {
			case "cpu":
				m.CPU = v
			case "go":
				m.Go = v
			case "cores":
				m.Cores = v
			}
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, m, fmt.Errorf("bench: %q: %w", line, err)
			}
			k := Metric{name, f[i+1]}
			res[k] = append(res[k], v)
		}
	}
	return res, m, sc.Err()
}

// Median returns the median of xs (the mean of the middle two for an even
// count), or NaN when xs is empty.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// WriteTable writes rows as a markdown table of the medians of res: the
// machine line, then | benchmark | ours | baseline | ratio | target |.
// A value that was not measured shows as "n/a".
func WriteTable(w io.Writer, rows []Row, res Results, m Machine) error {
	runs := 0
	for _, xs := range res {
		runs = max(runs, len(xs))
	}
	fmt.Fprintf(w, "Machine: %s. Medians of %d runs.\n\n", m, runs)
	fmt.Fprintln(w, "| benchmark | ours | baseline | ratio | target |")
	fmt.Fprintln(w, "|---|--:|--:|--:|---|")
	for _, r := range rows {
		ours, base := Median(res[r.Ours]), Median(res[r.Base])
		target := r.Target.Text
		if r.Target.Met != nil && !math.IsNaN(ours) && !math.IsNaN(base) {
			if r.Target.Met(ours, base) {
				target += " met"
			} else {
				target += " **missed**"
			}
		}
		_, err := fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.Title,
			FormatValue(ours, r.Ours.Unit), FormatValue(base, r.Base.Unit), formatRatio(ours/base), target)
		if err != nil {
			return err
		}
	}
	return nil
}

// FormatValue formats v, measured in unit, for people: a time unit
// ("ns/op", "pause-ns/op", "ns/object") in ns, µs, ms or s, a byte unit
// ("B/object") in B up to 9999, then KB or MB (of 1000), followed by what
// it is per unless that is an op: "412 ns/object", "1.25 ms", "3684 B/object".
func FormatValue(v float64, unit string) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	what, per, _ := strings.Cut(unit, "/")
	var s string
	switch {
	case strings.HasSuffix(what, "ns"):
		s = scaled(v, 1000, []string{"ns", "µs", "ms", "s"})
	case what == "B":
		s = scaled(v, 10000, []string{"B", "KB", "MB", "GB"})
	default:
		s = strconv.FormatFloat(v, 'g', 3, 64) + " " + what
	}
	if per != "" && per != "op" {
		s += "/" + per
	}
	return s
}

// scaled divides v by 1000 until it is below limit or units run out, and
// formats it with three significant digits (no exponent) and its unit.
func scaled(v, limit float64, units []string) string {
	i := 0
	for math.Abs(v) >= limit && i < len(units)-1 {
		v /= 1000
		i++
	}
	return threeDigits(v) + " " + units[i]
}

// formatRatio formats a ratio as "1.07x", "42.5x", "3120x" or "0.0012x".
func formatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return threeDigits(r) + "x"
}

// threeDigits formats v with three significant digits, all of its integer
// digits, and no exponent; a whole number has no decimals.
func threeDigits(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100 || a == math.Trunc(a):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 2-int(math.Floor(math.Log10(a))), 64)
}
