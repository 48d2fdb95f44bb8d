package engine_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hotlua/hotlua/engine"
)

// writeScript writes one script under root, as a script author's editor would.
func writeScript(root, name, src string) {
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		log.Fatal(err)
	}
}

// An object made from Go runs the newest version of its class after a
// reload, with its fields intact.
func Example() {
	root, _ := os.MkdirTemp("", "hotlua-example")
	defer os.RemoveAll(root)
	writeScript(root, "greeter.lua", `
local Greeter = hot.class("Greeter")
function Greeter:init(name) self.name = name end
function Greeter:greet() return "hello, " .. self.name end
return Greeter
`)
	e, err := engine.New(engine.Options{Roots: []string{root}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	g, _ := e.New(ctx, "Greeter", "Ada")
	v, _ := g.Call(ctx, "greet")
	fmt.Println(v, g.Version().Generation)

	// A script author saves a new version; the host (or Monitor) reloads.
	writeScript(root, "greeter.lua", `
local Greeter = hot.class("Greeter")
function Greeter:init(name) self.name = name end
function Greeter:greet() return "good morning, " .. self.name end
return Greeter
`)
	if _, err := e.Reload(ctx); err != nil {
		log.Fatal(err)
	}
	v, _ = g.Call(ctx, "greet")
	fmt.Println(v, g.Version().Generation)

	// A broken save changes nothing and names the place.
	writeScript(root, "greeter.lua", "local Greeter = hot.class('Greeter'\n")
	_, err = e.Reload(ctx)
	fmt.Println(err)
	v, _ = g.Call(ctx, "greet")
	fmt.Println(v, e.Generation())
	// Output:
	// hello, Ada 1
	// good morning, Ada 2
	// greeter.lua:1:36: syntax error at end of file
	// good morning, Ada 2
}

// The manual verbs of the classic reload: ask for the updated class, set it
// on the instance.
func ExampleEngine_UpdatedClass() {
	root, _ := os.MkdirTemp("", "hotlua-example")
	defer os.RemoveAll(root)
	writeScript(root, "units/enemy.lua", `
local Enemy = {}
Enemy.__index = Enemy
function Enemy:speak() return "v1" end
return Enemy
`)
	e, _ := engine.New(engine.Options{Roots: []string{root}, ManualSwap: true, Logger: slog.New(slog.DiscardHandler)})
	defer e.Close()
	ctx := context.Background()
	cls, _ := e.Class("units.enemy")
	obj, _ := e.New(ctx, "units.enemy")

	writeScript(root, "units/enemy.lua", `
local Enemy = {}
Enemy.__index = Enemy
function Enemy:speak() return "v2" end
return Enemy
`)
	e.Reload(ctx)
	v, _ := obj.Call(ctx, "speak")
	fmt.Println("before SetClass:", v)
	if updated, newer := e.UpdatedClass(cls); newer {
		obj.SetClass(updated)
	}
	v, _ = obj.Call(ctx, "speak")
	fmt.Println("after SetClass:", v)
	// Output:
	// before SetClass: v1
	// after SetClass: v2
}
