// Package readme tests the README's Embedding section: the program it
// shows, taken from README.md as written, builds against this module and
// runs.
package readme

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fence matches a fenced code block: its language and its text.
var fence = regexp.MustCompile("(?s)```(\\w+)\\n(.*?)```")

// embedding returns the shell steps, the Go program and the Lua class the
// README's Embedding section shows, and the path of the Lua file.
func embedding(t *testing.T) (steps, goSrc, luaSrc, luaPath string) {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Embedding\n")
	if !ok {
		t.Fatal("README.md has no Embedding section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for _, m := range fence.FindAllStringSubmatch(section, -1) {
		switch m[1] {
		case "sh":
			steps = m[2]
		case "go":
			goSrc = m[2]
		case "lua":
			luaSrc = m[2]
		}
	}
	first, _, _ := strings.Cut(luaSrc, "\n")
	luaPath = strings.TrimSuffix(strings.Fields(strings.TrimPrefix(first, "--"))[0], ":")
	if steps == "" || goSrc == "" || luaSrc == "" || !strings.HasSuffix(luaPath, ".lua") {
		t.Fatalf("the Embedding section should show its shell steps, a Go program and a Lua class whose first line names its file; got %q", first)
	}
	return steps, goSrc, luaSrc, luaPath
}

// cloneInSteps is where the README's steps name the reader's clone.
const cloneInSteps = "/path/to/hotlua"

// TestEmbeddingSectionRuns follows the README's steps, in order, in a new
// directory, with this checkout as the reader's clone: it runs their go
// commands but the last (go run, which the test replaces by a build and a
// run), writes the program and class at the step that makes their
// directory, builds and runs the program, and waits for the class's first
// answers.
func TestEmbeddingSectionRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	steps, goSrc, luaSrc, luaPath := embedding(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The reader's go command, with its default flags, in dir (env added).
	goIn := func(dir string, env []string, args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "GOFLAGS="), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// What the clone's go.mod requires is in the module cache, as once the
	// reader built the clone (fetched if need be, as that build would),
	// checked against the clone's go.sum. The steps then run offline, so
	// nothing they do asks a proxy for hotlua itself, which is not
	// published; the sums go mod tidy writes are those of the cache.
	goIn(repo, nil, "mod", "download")
	goCmd := func(args ...string) { t.Helper(); goIn(dir, []string{"GOPROXY=off", "GOSUMDB=off"}, args...) }
	ran, wrote := 0, false
	for line := range strings.Lines(steps) {
		line, _, _ = strings.Cut(line, "#")
		args := strings.Fields(strings.ReplaceAll(line, cloneInSteps, repo))
		switch {
		case len(args) > 0 && args[0] == "mkdir": // the step that writes the program and its class
			write("main.go", goSrc)
			write(luaPath, luaSrc)
			wrote = true
		case len(args) < 2 || args[0] != "go" || args[1] == "run": // go run: built and run below
		default:
			goCmd(args[1:]...)
			ran++
		}
	}
	if ran < 3 || !wrote || !strings.Contains(steps, cloneInSteps) {
		t.Fatalf("the steps should make the module, point it at %s, make the scripts' directory and resolve the module's requirements; they are:\n%s", cloneInSteps, steps)
	}
	goCmd("vet", ".")
	goCmd("build", "-o", "game", ".")

	cmd := exec.Command(filepath.Join(dir, "game"))
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	defer time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() }).Stop()
	var seen []string
	answers := 0
	for sc := bufio.NewScanner(stderr); answers < 2 && sc.Scan(); {
		seen = append(seen, sc.Text())
		if strings.Contains(sc.Text(), "red walker at x=") {
			answers++
		}
	}
	if answers < 2 {
		t.Fatalf("the program did not run its class twice; it said:\n%s", strings.Join(seen, "\n"))
	}
}
