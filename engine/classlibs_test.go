package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// classLibraries are the script roots under testdata/classlibs, each
// written to the protocol of one class library (see its lib/ file).
var classLibraries = []struct{ dir, standsFor string }{
	{"dictclass", "kikito/middleclass"},
	{"extendclass", "rxi/classic"},
	{"registryclass", "Yonaba/30log"},
	{"copyclass", "vrld/hump class"},
	{"ctorclass", "Penlight pl.class"},
	{"protoclass", "Programming in Lua's hand-written classes"},
}

// libWorld is an engine on a copy of one library's root, with a Dog made
// in Lua the library's way (fromLua) and one made by Engine.New (fromGo).
type libWorld struct {
	e               *Engine
	dir             string
	fromLua, fromGo *Object
}

func newLibWorld(t *testing.T, lib string, opts ...func(*Options)) *libWorld {
	t.Helper()
	files := readTree(t, filepath.Join("testdata", "classlibs", lib))
	maps.Copy(files, readTree(t, filepath.Join("testdata", "classlibs", "common")))
	e, dir := newEngine(t, files, opts...)
	w := &libWorld{e: e, dir: dir}
	v, err := e.CallGlobal(context.Background(), "make", "lua")
	if err != nil {
		t.Fatalf("make: %v", err)
	}
	var ok bool
	if w.fromLua, ok = v.Object(); !ok {
		t.Fatalf("make returned %v, not an object: the library's objects are not adopted", v)
	}
	if w.fromGo, err = e.New(context.Background(), "animals.dog", "go"); err != nil {
		t.Fatalf("New(animals.dog): %v", err)
	}
	w.expect(t, "speak", "lua: woof v1", "go: woof v1")
	return w
}

// readTree reads the files under dir (path relative to dir -> content).
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := make(map[string]string)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// edit replaces old by new in the root's file rel; it fails the test when
// old is not there.
func (w *libWorld) edit(t *testing.T, rel, old, new string) {
	t.Helper()
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s has no %q", rel, old)
	}
	writeScripts(t, w.dir, map[string]string{rel: strings.Replace(string(data), old, new, 1)})
}

func (w *libWorld) reload(t *testing.T) *Report {
	t.Helper()
	r, err := w.e.Reload(context.Background())
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	return r
}

// expect calls method on fromLua and fromGo and compares their results.
func (w *libWorld) expect(t *testing.T, method string, wantLua, wantGo any) {
	t.Helper()
	if got := call(t, w.fromLua, method); got != wantLua {
		t.Errorf("object made in Lua: %s() = %v, want %v", method, got, wantLua)
	}
	if got := call(t, w.fromGo, method); got != wantGo {
		t.Errorf("object made from Go: %s() = %v, want %v", method, got, wantGo)
	}
}

// probe runs the library's own checks (probe.lua) on o.
func (w *libWorld) probe(t *testing.T, o *Object, what string) {
	t.Helper()
	v, err := w.e.CallGlobal(context.Background(), "probe", o, what)
	if err != nil {
		t.Fatalf("probe %s: %v", what, err)
	}
	if s, _ := v.Str(); s != "ok" {
		t.Errorf("probe %s of %v: %v", what, o, v)
	}
}

// TestClassLibraries runs every scenario of a reload on every class
// library protocol: the promises made for idiomatic classes hold for them.
func TestClassLibraries(t *testing.T) {
	ctx := context.Background()
	scenarios := []struct {
		name string
		run  func(t *testing.T, lib string)
	}{
		{"subclass method edit", func(t *testing.T, lib string) {
			w := newLibWorld(t, lib)
			w.edit(t, "animals/dog.lua", "woof v1", "woof v2")
			r := w.reload(t)
			if !slices.Contains(r.Changed, "animals.dog") {
				t.Errorf("changed = %v, want animals.dog in it", r.Changed)
			}
			w.expect(t, "speak", "lua: woof v2", "go: woof v2")
			if v := w.fromLua.Version(); v.Generation != 2 {
				t.Errorf("version = %v, want generation 2", v)
			}
		}},
		{"base file edit only", func(t *testing.T, lib string) {
			w := newLibWorld(t, lib)
			w.edit(t, "animals/animal.lua", "animal v1", "animal v2")
			r := w.reload(t)
			if !slices.Contains(r.Changed, "animals.dog") || !slices.Contains(r.Changed, "animals.animal") {
				t.Errorf("changed = %v, want animals.animal and animals.dog", r.Changed)
			}
			w.expect(t, "describe", "animal v2", "animal v2")
			w.expect(t, "speak", "lua: woof v1", "go: woof v1")
		}},
		{"method added and removed", func(t *testing.T, lib string) {
			w := newLibWorld(t, lib)
			w.edit(t, "animals/dog.lua", `function Dog:fetch() return "fetch" end`, `function Dog:sit() return "sits" end`)
			w.reload(t)
			w.expect(t, "sit", "sits", "sits")
			for _, o := range []*Object{w.fromLua, w.fromGo} {
				if _, err := o.Call(ctx, "fetch"); !errors.Is(err, ErrNoMethod) {
					t.Errorf("removed method: err = %v, want ErrNoMethod", err)
				}
			}
			if got := call(t, w.fromLua, "describe"); got != "animal v1" {
				t.Errorf("inherited describe = %v", got)
			}
		}},
		{"identity checks", func(t *testing.T, lib string) {
			w := newLibWorld(t, lib)
			w.probe(t, w.fromLua, "identity")
			w.edit(t, "animals/dog.lua", "woof v1", "woof v2")
			w.edit(t, "animals/animal.lua", "animal v1", "animal v2")
			w.reload(t)
			fresh, err := w.e.CallGlobal(ctx, "make", "new")
			if err != nil {
				t.Fatal(err)
			}
			obj, _ := fresh.Object()
			for _, o := range []*Object{w.fromLua, w.fromGo, obj} {
				w.probe(t, o, "identity")
			}
		}},
		{"class-keyed table and getmetatable", func(t *testing.T, lib string) {
			w := newLibWorld(t, lib)
			w.probe(t, w.fromLua, "keyed")
			w.edit(t, "animals/dog.lua", "woof v1", "woof v2")
			w.reload(t)
			w.probe(t, w.fromLua, "keyed")
			w.probe(t, w.fromGo, "keyed")
		}},
		{"mixin edit", func(t *testing.T, lib string) {
			w := newLibWorld(t, lib)
			w.expect(t, "shout", "LOUD v1", "LOUD v1")
			w.edit(t, "mixins/loud.lua", "LOUD v1", "LOUD v2")
			r := w.reload(t)
			if !slices.Contains(r.Changed, "animals.dog") {
				t.Errorf("changed = %v, want animals.dog (it includes the mixin)", r.Changed)
			}
			w.expect(t, "shout", "LOUD v2", "LOUD v2")
		}},
		{"__migrate added to the base", func(t *testing.T, lib string) {
			w := newLibWorld(t, lib)
			w.edit(t, "animals/animal.lua", "-- migrate here", "function Animal:__migrate(old) self.migrated = old.generation end")
			r := w.reload(t)
			if len(r.Failed) > 0 {
				t.Fatalf("migrations failed: %v", r.Failed)
			}
			if r.Migrated != 2 {
				t.Errorf("migrated %d objects, want the 2 dogs (a class table is no object)", r.Migrated)
			}
			for _, o := range []*Object{w.fromLua, w.fromGo} {
				if v, _ := o.Get("migrated"); v.Any() != 1.0 {
					t.Errorf("%v: migrated = %v, want 1", o, v)
				}
				if o.Version().Generation != 2 {
					t.Errorf("%v stayed on its old version", o)
				}
			}
		}},
		{"object made from Go with the library's constructor", func(t *testing.T, lib string) {
			w := newLibWorld(t, lib)
			if v, _ := w.fromGo.Get("name"); v.Any() != "go" {
				t.Errorf("name = %v, want the initializer's \"go\"", v)
			}
			w.probe(t, w.fromGo, "identity")
			if n := len(w.e.Objects("animals.dog")); n != 2 {
				t.Errorf("Objects(animals.dog) = %d, want 2", n)
			}
			var names []string
			for _, c := range w.e.Classes() {
				names = append(names, c.Name)
				if c.Name == "animals.animal" && c.Objects != 0 {
					t.Errorf("animals.animal has %d objects, want 0 (a subclass is no object)", c.Objects)
				}
			}
			if !slices.Contains(names, "animals.dog") || !slices.Contains(names, "animals.animal") {
				t.Errorf("classes = %v", names)
			}
		}},
		{"syntax error", func(t *testing.T, lib string) {
			w := newLibWorld(t, lib)
			for _, rel := range []string{"lib/" + lib + ".lua", "animals/animal.lua", "animals/dog.lua", "mixins/loud.lua"} {
				p := filepath.Join(w.dir, filepath.FromSlash(rel))
				good, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				writeScripts(t, w.dir, map[string]string{rel: string(good) + "\nlocal = 1\n"})
				_, err = w.e.Reload(ctx)
				var se *ScriptError
				if !errors.As(err, &se) || se.Path != rel {
					t.Errorf("broken %s: err = %v, want a ScriptError naming it", rel, err)
				}
				writeScripts(t, w.dir, map[string]string{rel: string(good)})
			}
			if g := w.e.Generation(); g != 1 {
				t.Errorf("generation = %d, want 1", g)
			}
			w.expect(t, "speak", "lua: woof v1", "go: woof v1")
			w.probe(t, w.fromLua, "identity")
		}},
		{"manual swap", func(t *testing.T, lib string) {
			w := newLibWorld(t, lib, func(o *Options) { o.ManualSwap = true })
			before := w.fromLua.Class()
			w.edit(t, "animals/dog.lua", "woof v1", "woof v2")
			w.reload(t)
			w.expect(t, "speak", "lua: woof v1", "go: woof v1")
			c, newer := w.e.UpdatedClass(before)
			if !newer {
				t.Fatalf("UpdatedClass(%v) found nothing newer", before)
			}
			if err := w.fromLua.SetClass(c); err != nil {
				t.Fatal(err)
			}
			w.expect(t, "speak", "lua: woof v2", "go: woof v1")
			w.probe(t, w.fromLua, "identity")
		}},
	}
	for _, lib := range classLibraries {
		t.Run(lib.dir, func(t *testing.T) {
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) { sc.run(t, lib.dir) })
			}
		})
	}
}

// TestKeptLibraryRegistriesHoldTheStableClasses: a class library kept
// across reloads registers each generation's classes in its module locals
// (30log's registry); what it holds is the one stable class table, so its
// registry does not grow with reloads and answers with the class scripts
// see, which is also what require returns once the reload committed.
func TestKeptLibraryRegistriesHoldTheStableClasses(t *testing.T) {
	w := newLibWorld(t, "registryclass")
	for v := 1; v <= 3; v++ {
		w.edit(t, "animals/dog.lua", fmt.Sprintf("woof v%d", v), fmt.Sprintf("woof v%d", v+1))
		w.reload(t)
	}
	err := w.e.Do(context.Background(), func(L *lua.LState) error {
		return L.DoString(`
			local Animal, Dog = require("animals.animal"), require("animals.dog")
			local subs = Animal:subclasses()
			assert(#subs == 1, #subs .. " subclasses of Animal after three reloads, want 1")
			assert(subs[1] == Dog, "the registered subclass is not the Dog scripts see")
			assert(Dog == package.loaded["animals.dog"] and Dog == make("x").class, "require's Dog is not the class objects have")`)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDictClassDeclaringIndex reloads a class of the middleclass protocol
// that declares __index, a function its objects fall back on: the
// library's dictionary then holds a function as its __index rather than
// itself, and the class was taken for none (e.New: "no such class";
// objects kept the old code). Its objects run the new methods and the new
// fallback after a reload, and the library's isInstanceOf still holds.
func TestDictClassDeclaringIndex(t *testing.T) {
	const ghost = "local Animal = require('animals.animal')\nlocal Ghost = Animal:subclass('Ghost')\n" +
		"Ghost.__index = function(self, k) return 'boo ' .. k .. ' v1' end\n" +
		"function Ghost:speak() return 'ooo v1' end\n" +
		"function Ghost:probe() return self.anything .. (self:isInstanceOf(require('animals.ghost')) and ', a ghost' or '') end\n" +
		"return Ghost\n"
	files := readTree(t, filepath.Join("testdata", "classlibs", "dictclass"))
	maps.Copy(files, readTree(t, filepath.Join("testdata", "classlibs", "common")))
	files["animals/ghost.lua"] = ghost
	e, dir := newEngine(t, files)
	g, err := e.New(context.Background(), "animals.ghost", "casper")
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, g, "speak"); got != "ooo v1" {
		t.Fatalf("speak() = %v, want ooo v1", got)
	}
	if got := call(t, g, "probe"); got != "boo anything v1, a ghost" {
		t.Fatalf("probe() = %v, want the fallback and the class", got)
	}
	reload(t, e, dir, map[string]string{"animals/ghost.lua": strings.ReplaceAll(ghost, " v1", " v2")})
	if got := call(t, g, "speak"); got != "ooo v2" {
		t.Errorf("after the reload, speak() = %v, want ooo v2", got)
	}
	if got := call(t, g, "probe"); got != "boo anything v2, a ghost" {
		t.Errorf("after the reload, probe() = %v, want the new fallback and the class", got)
	}
	if got, _ := g.Get("name"); got.String() != "casper" {
		t.Errorf("the ghost's name is %v after the reload, want casper", got)
	}
}
