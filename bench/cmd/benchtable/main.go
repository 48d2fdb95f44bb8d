// Command benchtable runs hotlua's benchmark suite (package bench) and
// prints a markdown table of medians and ratios against the baselines
// measured in the same run, with the machine it ran on.
//
// Run it from the module root:
//
//	go run ./bench/cmd/benchtable
//
// It runs go test -run '^$' -bench . -count 1 -benchtime 500ms ./bench/
// ./bindings/ six times (-count), echoing its output to stderr as it goes,
// and writes the table to stdout.
// Each round runs every benchmark once, each right beside its baseline, so
// that a machine whose speed drifts (shared cores) slows both alike; a
// single go test -count 6 would run the six runs of one benchmark before
// any of its baseline. With -in it reads saved output from a file ("-" for
// stdin) instead of running the benchmarks. With -large it also measures
// the 5,000-module rows and the commit pause with 50, 500 and 5,000 classes,
// which the README's table shows.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/hotlua/hotlua/bench"
)

func main() {
	count := flag.Int("count", 6, "rounds: runs of each benchmark; the table shows their medians")
	// 500ms: six rounds of the default set take about 12 minutes on two
	// shared cores (a round at 1s took 2 min 40 s); the medians of the
	// rounds, not the length of one run, are what steadies the figures.
	benchtime := flag.String("benchtime", "500ms", "go test -benchtime for each run")
	pattern := flag.String("bench", ".", "go test -bench: which benchmarks to run")
	pkg := flag.String("pkg", "./bench/ ./bindings/", "the benchmark packages, separated by spaces")
	in := flag.String("in", "", "read go test -bench output from this file (- for stdin) instead of running it")
	large := flag.Bool("large", false, "also measure the 5,000-module project and the commit pause by classes (about 40 s more per round)")
	flag.Parse()
	var env []string
	if *large {
		env = []string{"HOTLUA_BENCH_LARGE=1"} // read by package bench's BenchmarkScale
	}
	if err := run(*in, *pkg, *pattern, *benchtime, *count, env); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// run gets the benchmark output, by running go test or from in, and
// writes the table.
func run(in, pkg, pattern, benchtime string, count int, env []string) error {
	var out []byte
	var err error
	switch in {
	case "":
		out, err = runBenchmarks(pkg, pattern, benchtime, count, env)
	case "-":
		out, err = io.ReadAll(os.Stdin)
	default:
		out, err = os.ReadFile(in)
	}
	if err != nil {
		return err
	}
	res, machine, err := bench.Parse(bytes.NewReader(out))
	if err != nil {
		return err
	}
	return bench.WriteTable(os.Stdout, bench.Rows, res, machine)
}

// runBenchmarks runs the benchmarks of the packages in pkg count times, one round after
// the other, with env added to the environment, and returns go test's
// output, which it also copies to stderr as it comes.
func runBenchmarks(pkg, pattern, benchtime string, count int, env []string) ([]byte, error) {
	var out bytes.Buffer
	for i := range count {
		fmt.Fprintf(os.Stderr, "benchtable: round %d of %d\n", i+1, count)
		args := append([]string{"test", "-run", "^$", "-bench", pattern,
			"-count", "1", "-benchtime", benchtime, "-timeout", "30m"}, strings.Fields(pkg)...)
		cmd := exec.Command("go", args...)
		cmd.Stdout = io.MultiWriter(&out, os.Stderr)
		cmd.Stderr = os.Stderr
		cmd.Env = append(os.Environ(), env...)
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go test: %w", err)
		}
	}
	return out.Bytes(), nil
}
