package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/hotlua/hotlua/engine"
)

var checkCommand = &command{
	name:    "check",
	args:    []string{"PATH..."},
	summary: "load scripts in a fresh state and run their checks",
	details: `Check compiles every .lua file under each directory PATH, runs them all in a
fresh state and runs the checks they register with hot.check, as a reload
would; nothing else runs. A PATH that is a file is checked within its script
root (so that it may require its neighbours), and only its own problems are
printed: the root is the directory above it from which the modules it
requires by name are found, else the highest one whose every level holds
.lua files. Each problem is printed on its own line as path:line:col:
message, with the path relative to the directory (for a file, the path as
given), and check exits 1 if there is any; otherwise it prints "ok: N
scripts, M classes" for a directory and "ok: PATH" for a file, and fails
when a directory holds no scripts at all. Given several directories, it
names each: the problems' paths start with their directory, and "ok: PATH:
N scripts, M classes". Every problem check can find is reported: each file
refused by the source check or the compiler, each module whose top level
fails (and each that requires one of those), each failed check.`,
	setup: func(*flag.FlagSet) runFunc { return check },
}

// check runs "hotlua check PATH...".
func check(ctx context.Context, s stdio, paths []string) error {
	failed := false
	for _, path := range paths {
		if err := checkPath(ctx, s.out, path, len(paths) > 1); err != nil {
			if !errors.Is(err, errReported) {
				fmt.Fprintf(s.err, "hotlua check: %v\n", err)
			}
			failed = true
		}
	}
	if failed {
		return errReported
	}
	return nil
}

// checkPath checks one directory, or one file within its directory. With
// named, the lines it prints say which directory they are about.
func checkPath(ctx context.Context, w io.Writer, path string, named bool) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such file or directory", path)
	} else if err != nil {
		return err
	}
	dir, only := path, ""
	if !fi.IsDir() {
		if filepath.Ext(path) != ".lua" {
			return fmt.Errorf("%s: not a .lua file", path)
		}
		abs, err := filepath.Abs(path) // the root may be above the working directory
		if err != nil {
			return err
		}
		dir = scriptRoot(abs)
		if only, err = filepath.Rel(dir, abs); err != nil {
			return err
		}
		only = filepath.ToSlash(only)
	}
	res, err := engine.Check(ctx, engine.Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		problems := splitErrors(err)
		if only != "" {
			problems = slices.DeleteFunc(problems, func(p error) bool { return !strings.HasPrefix(p.Error(), only+":") })
			if len(problems) == 0 { // only other scripts fail, and not because of this one
				fmt.Fprintf(w, "ok: %s\n", path)
				return nil
			}
		}
		for _, p := range problems {
			switch {
			case only != "": // named as the file was given, for the editor that gave it
				fmt.Fprintln(w, path+strings.TrimPrefix(p.Error(), only))
			case named:
				fmt.Fprintln(w, filepath.Clean(dir)+string(filepath.Separator)+p.Error())
			default:
				fmt.Fprintln(w, p)
			}
		}
		return errReported
	}
	if res.Scripts == 0 {
		return fmt.Errorf("%s: no .lua scripts found", path)
	}
	if only != "" {
		fmt.Fprintf(w, "ok: %s\n", path)
		return nil
	}
	if named {
		fmt.Fprintf(w, "ok: %s: ", path)
	} else {
		fmt.Fprint(w, "ok: ")
	}
	fmt.Fprintf(w, "%d scripts, %d classes\n", res.Scripts, len(res.Classes))
	return nil
}

// scriptRoot returns the likely script root of the script file path: of
// its directory and the directories above it, the one from which most of
// the modules the script requires by a literal name are files of the root
// (require("units.walker") from scripts/units/runner.lua: scripts). When
// that does not single one out (no such require, or a tie), it is the
// highest directory such that it and every directory between it and the
// script's hold .lua files, if among the best; else the lowest of those.
func scriptRoot(path string) string {
	src, _ := os.ReadFile(path)
	var required []string
	for _, m := range requireCall.FindAllSubmatch(src, -1) {
		required = append(required, string(m[1]))
	}
	var best []string
	most := -1
	for dir := filepath.Dir(path); ; {
		n := 0
		for _, mod := range required {
			if moduleFileIn(dir, mod) {
				n++
			}
		}
		if n > most {
			best, most = nil, n
		}
		if n == most {
			best = append(best, dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if luaLevels := luaLevelsRoot(filepath.Dir(path)); slices.Contains(best, luaLevels) {
		return luaLevels
	}
	return best[0]
}

// requireCall matches a call of require with a literal module name, its
// first submatch.
var requireCall = regexp.MustCompile(`\brequire\s*\(?\s*["']([\w.]+)["']`)

// moduleFileIn reports whether the module mod is a file of the script root
// root, as the engine resolves it: a/b is a/b.lua or a/b/init.lua.
func moduleFileIn(root, mod string) bool {
	base := filepath.Join(root, filepath.FromSlash(strings.ReplaceAll(mod, ".", "/")))
	for _, p := range []string{base + ".lua", filepath.Join(base, "init.lua")} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// luaLevelsRoot returns the highest directory, dir or above, such that it
// and every directory between it and dir hold .lua files.
func luaLevelsRoot(dir string) string {
	for {
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		luaFiles, _ := filepath.Glob(filepath.Join(parent, "*.lua"))
		if len(luaFiles) == 0 {
			return dir
		}
		dir = parent
	}
}

// printProblems writes each error that err joins on its own line.
func printProblems(w io.Writer, err error) {
	for _, p := range splitErrors(err) {
		fmt.Fprintln(w, p)
	}
}

// splitErrors returns the errors that err joins (with [errors.Join], at any
// depth), or err alone. An error that wraps a joined error is one problem.
func splitErrors(err error) []error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, splitErrors(e)...)
	}
	return out
}
