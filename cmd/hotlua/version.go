package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	lua "github.com/yuin/gopher-lua"
)

var versionCommand = &command{
	name:    "version",
	summary: "print the versions of hotlua, Go and gopher-lua",
	details: `Version prints the version of the hotlua module this program was built from
(with its VCS revision when known), of Go, and of gopher-lua.`,
	setup: func(*flag.FlagSet) runFunc { return version },
}

// version runs "hotlua version".
func version(_ context.Context, s stdio, _ []string) error {
	hotlua, gopherLua := "(unknown)", "(unknown)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		hotlua = bi.Main.Version
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" {
				hotlua += " " + kv.Value
			}
		}
		for _, m := range bi.Deps {
			if m.Path == "github.com/yuin/gopher-lua" {
				gopherLua = m.Version
			}
		}
	}
	fmt.Fprintf(s.out, "hotlua %s\n%s %s/%s\ngopher-lua %s (%s)\n", hotlua, runtime.Version(), runtime.GOOS, runtime.GOARCH, gopherLua, lua.LuaVersion)
	return nil
}
