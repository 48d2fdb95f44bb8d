package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotlua/hotlua/internal/watch"
)

// watchedEngine is an engine whose reload events arrive on a channel.
func watchedEngine(t *testing.T, files map[string]string) (*Engine, string, chan ReloadEvent) {
	t.Helper()
	events := make(chan ReloadEvent, 16)
	e, dir := newEngine(t, files, func(o *Options) {
		// A save's steps (truncate, then write; rename away, then create)
		// leave the file empty or missing in between: such a batch waits
		// for Settle, long enough for a descheduled test goroutine to
		// finish the save. A finished one waits only for Debounce.
		o.Debounce = 20 * time.Millisecond
		o.Settle = 2 * time.Second
		o.OnReload = func(ev ReloadEvent) { events <- ev }
	})
	if ev := nextEvent(t, events); ev.Trigger != "initial" || ev.Generation != 1 {
		t.Fatalf("first event = %+v, want the initial load", ev)
	}
	return e, dir, events
}

// saveAtomically saves content as rel under dir in one step: written to
// a temporary name and renamed over it, so that no watcher ever sees a
// half-written file.
func saveAtomically(t testing.TB, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".tmp")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

// manualClock makes the watchers this test starts run their debounce on
// a clock the test moves (see nextEventAdvancing): a save the test made is
// complete before any quiet period ends, however slow the machine.
func manualClock(t *testing.T) *watch.ManualClock {
	c := watch.NewManualClock()
	watchClock = c
	t.Cleanup(func() { watchClock = nil })
	return c
}

// nextEventAdvancing waits for the next reload event, moving clock on
// meanwhile so that whatever the watcher holds is delivered.
func nextEventAdvancing(t *testing.T, events chan ReloadEvent, clock *watch.ManualClock) ReloadEvent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		clock.Advance(time.Hour)
		select {
		case ev := <-events:
			return ev
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			t.Fatal("no reload event within 10s")
		}
	}
}

func nextEvent(t *testing.T, events chan ReloadEvent) ReloadEvent {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no reload event within 10s")
		return ReloadEvent{}
	}
}

func TestMonitorReloadsOnSave(t *testing.T) {
	for _, mode := range []string{"fsnotify", "poll"} {
		t.Run(mode, func(t *testing.T) {
			e, dir, events := watchedEngine(t, map[string]string{"units/enemy.lua": enemyV1})
			var err error
			if mode == "poll" {
				err = e.SetPollInterval(20 * time.Millisecond)
			} else {
				err = e.Monitor()
			}
			if err != nil {
				t.Fatal(err)
			}
			obj, _ := e.New(context.Background(), "units.enemy")
			obj.Set("hp", 10)

			saveAtomically(t, dir, "units/enemy.lua", strings.Replace(enemyV1, "self.hp - n", "self.hp - 4 * n", 1))
			ev := nextEvent(t, events)
			if ev.Err != nil || ev.Generation != 2 || strings.Join(ev.Files, ",") != "units/enemy.lua" {
				t.Fatalf("event = %+v", ev)
			}
			wantTrigger := map[string]string{"fsnotify": "watch", "poll": "poll"}[mode]
			if ev.Trigger != wantTrigger {
				t.Fatalf("trigger = %q, want %q", ev.Trigger, wantTrigger)
			}
			if got := call(t, obj, "damage", 1); got != 6.0 {
				t.Fatalf("damage = %v, want 6 from the saved version", got)
			}

			// A broken save is reported and changes nothing.
			saveAtomically(t, dir, "units/enemy.lua", "local = 1")
			ev = nextEvent(t, events)
			if ev.Err == nil || !strings.HasPrefix(ev.Err.Error(), "units/enemy.lua:1:") || ev.Generation != 2 {
				t.Fatalf("broken save: event = %+v", ev)
			}
			if got := call(t, obj, "damage", 1); got != 2.0 {
				t.Fatalf("damage after a broken save = %v, want 2", got)
			}
		})
	}
}

func TestPauseHoldsReloadsUntilResume(t *testing.T) {
	e, dir, events := watchedEngine(t, map[string]string{"a.lua": "return 1"})
	if err := e.Monitor(); err != nil {
		t.Fatal(err)
	}
	e.PauseReloads()
	writeScripts(t, dir, map[string]string{"a.lua": "return 2"})
	writeScripts(t, dir, map[string]string{"b.lua": "return 3"})
	if g := e.Generation(); g != 1 {
		t.Fatalf("generation %d while paused, want 1", g)
	}
	e.ResumeReloads()
	// Resume delivers what the watcher recorded; the reload reads every
	// script, so it commits both files even if b.lua's event comes later.
	ev := nextEvent(t, events)
	if ev.Trigger != "watch" || ev.Report == nil || strings.Join(ev.Report.Files, ",") != "a.lua,b.lua" || ev.Generation != 2 {
		t.Fatalf("event after resume = %+v, want one watch reload committing a.lua and b.lua", ev)
	}
}

// TestEditorSavesReloadOnce saves the way real editors do (several file
// operations each) and checks that each save is exactly one reload that
// runs the final content. A sentinel save afterwards proves no second
// reload of the file was on its way.
func TestEditorSavesReloadOnce(t *testing.T) {
	body := func(v string) string {
		return "local C = hot.class('C')\nfunction C:v() return '" + v + "' end\nreturn C\n"
	}
	saves := map[string]func(dir, content string, clock *watch.ManualClock){
		"vim": func(dir, content string, _ *watch.ManualClock) { // 4913 probe, backup by rename, write anew, remove backup
			p := filepath.Join(dir, "c.lua")
			os.WriteFile(filepath.Join(dir, "4913"), nil, 0o644)
			os.Remove(filepath.Join(dir, "4913"))
			os.Rename(p, p+"~")
			os.WriteFile(p, []byte(content), 0o644)
			os.Remove(p + "~")
		},
		"rename over": func(dir, content string, _ *watch.ManualClock) { // VS Code, JetBrains safe write, mv
			tmp := filepath.Join(dir, ".c.lua.tmp")
			os.WriteFile(tmp, []byte(content), 0o644)
			os.Rename(tmp, filepath.Join(dir, "c.lua"))
		},
		"sed -i": func(dir, content string, _ *watch.ManualClock) {
			tmp := filepath.Join(dir, "sedAbC123")
			os.WriteFile(tmp, []byte(content), 0o600)
			os.Chmod(tmp, 0o644)
			os.Rename(tmp, filepath.Join(dir, "c.lua"))
		},
		"in place": func(dir, content string, _ *watch.ManualClock) {
			f, _ := os.OpenFile(filepath.Join(dir, "c.lua"), os.O_WRONLY|os.O_TRUNC, 0)
			f.WriteString(content)
			f.Close()
		},
		"truncate, then write 60ms later": func(dir, content string, clock *watch.ManualClock) {
			f, _ := os.OpenFile(filepath.Join(dir, "c.lua"), os.O_WRONLY|os.O_TRUNC, 0)
			clock.Advance(60 * time.Millisecond) // past Debounce, within Settle
			f.WriteString(content)
			f.Close()
		},
		"half, then the rest 60ms later": func(dir, content string, clock *watch.ManualClock) {
			f, _ := os.OpenFile(filepath.Join(dir, "c.lua"), os.O_WRONLY|os.O_TRUNC, 0)
			f.WriteString(content[:len(content)/2])
			clock.Advance(60 * time.Millisecond)
			f.WriteString(content[len(content)/2:])
			f.Close()
		},
		"delete, then create": func(dir, content string, _ *watch.ManualClock) {
			p := filepath.Join(dir, "c.lua")
			os.Remove(p)
			os.WriteFile(p, []byte(content), 0o644)
		},
	}
	for name, save := range saves {
		t.Run(name, func(t *testing.T) {
			clock := manualClock(t)
			e, dir, events := watchedEngine(t, map[string]string{"c.lua": body("v1")})
			if err := e.Monitor(); err != nil {
				t.Fatal(err)
			}
			obj, _ := e.New(context.Background(), "C")
			save(dir, body("v2"), clock)
			ev := nextEventAdvancing(t, events, clock)
			if ev.Err != nil || ev.Generation != 2 {
				t.Fatalf("event = %+v", ev)
			}
			if got := call(t, obj, "v"); got != "v2" {
				t.Fatalf("v = %v, want the saved v2", got)
			}
			saveAtomically(t, dir, "sentinel.lua", "return 1")
			ev = nextEventAdvancing(t, events, clock)
			if strings.Join(ev.Files, ",") != "sentinel.lua" || ev.Generation != 3 {
				t.Fatalf("next event = %+v, want only the sentinel: one save, one reload", ev)
			}
		})
	}
}

// What the watcher takes for a finished save: a script that parses, a
// leading #! line included; not an empty, cut or oversized one.
func TestParsesJudgesFinishedSaves(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want bool
	}{
		{"class", enemyV1, true},
		{"shebang", "#!/usr/bin/env lua\n" + enemyV1, true},
		{"empty", "", true}, // empty parses; the watcher itself waits on empty files
		{"cut mid-function", enemyV1[:len(enemyV1)/2], false},
		{"too deep", "return " + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300), false},
	} {
		if got := parses("a.lua", []byte(tc.src), Limits{}); got != tc.want {
			t.Errorf("%s: parses = %v, want %v", tc.name, got, tc.want)
		}
	}
}
