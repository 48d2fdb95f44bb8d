package console

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hotlua/hotlua/bindings"
	"github.com/hotlua/hotlua/engine"
)

var update = flag.Bool("update", false, "rewrite testdata transcripts with the actual output")

// TestTranscripts replays testdata/*.txt against a Session. In a transcript,
// a line starting with the prompt ("> " or ">> ") is input, and the session
// must be showing that prompt; "^C" drops the pending chunk; "# " lines are
// comments; every other line is expected output, errors marked "! ".
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	runTranscripts(t, files, func(t *testing.T) Target { return newFakeTarget() })
}

// TestEngineTranscripts replays testdata/engine/*.txt against a real engine
// loaded from testdata/engine/scripts.
func TestEngineTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/engine/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	runTranscripts(t, files, func(t *testing.T) Target {
		reg := bindings.New()
		if err := bindings.Type[*testHost](reg, "Host"); err != nil {
			t.Fatal(err)
		}
		reg.Value("host", &testHost{ID: 7, Name: "box"})
		if err := reg.Func("host_add", func(a, b int) int { return a + b }); err != nil {
			t.Fatal(err)
		}
		e, err := engine.New(engine.Options{Roots: []string{"testdata/engine/scripts"}, Bindings: reg, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return ForEngine(e)
	})
}

// testHost is a Go value the engine transcripts' scripts can reach.
type testHost struct {
	ID     int
	Name   string `lua:"name"`
	secret int
}

// Grow is a method scripts can call on a testHost.
func (h *testHost) Grow(n int) { h.ID += n + h.secret }

func runTranscripts(t *testing.T, files []string, target func(*testing.T) Target) {
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := replay(target(t), string(data))
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := normalize(string(data)); got != want {
				t.Errorf("transcript %s differs\n--- got:\n%s\n--- want:\n%s", file, got, want)
			}
		})
	}
}

// replay feeds the input lines of a transcript to a fresh session and
// returns the transcript as it happened.
func replay(target Target, transcript string) string {
	s := NewSession(target)
	var out []string
	emit := func(e Event) { out = append(out, transcriptLine(e)) }
	for _, line := range strings.Split(strings.TrimRight(transcript, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "# "), line == "#":
			out = append(out, line)
		case line == "^C":
			out = append(out, line)
			s.Drop()
		case strings.HasPrefix(line, ">"):
			input := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(line, ">"), ">"), " ")
			out = append(out, s.Prompt()+input)
			if s.Input(context.Background(), input, emit) {
				out = append(out, "(detached)")
			}
		}
	}
	return normalize(strings.Join(out, "\n"))
}

// reloadTiming matches the timing a reload summary ends with.
var reloadTiming = regexp.MustCompile(`\([0-9.]+[µmn]?s, pause [0-9.]+[µmn]?s\)$`)

// normalize trims trailing spaces so that editors cannot break transcripts,
// and replaces reload timings with (TIME).
func normalize(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = reloadTiming.ReplaceAllString(strings.TrimRight(l, " \t"), "(TIME)")
	}
	return strings.Join(lines, "\n") + "\n"
}
