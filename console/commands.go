package console

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// command is a meta command such as :reload.
type command struct {
	name, args, help string
	run              func(s *Session, ctx context.Context, arg string, emit func(Event)) (quit bool)
}

// commands lists the meta commands in the order :help shows them. It is
// filled in init because :help refers to it.
var commands []command

func init() {
	commands = []command{
		{"help", "[NAME]", "show this help, or what NAME is (a value, class, library, binding)", cmdHelp},
		{"reload", "", "build a new generation from the scripts", cmdReload},
		{"classes", "", "list classes and their versions", lines(func(t Target, _ string) []string { return t.Classes() })},
		{"objects", "[class]", "list live objects with their numbers, of one class or all", cmdObjects},
		{"bind", "NAME N", "set the console variable NAME to the live object #N", cmdBind},
		{"inspect", "<expr>", "show a value in full, with an object's methods", cmdInspect},
		{"source", "Class:method", "print a method's source lines from its script", cmdSource},
		{"version", "", "show the current generation", lines(func(t Target, _ string) []string { return []string{t.Version()} })},
		{"generations", "", "list the generations in memory and what keeps old ones alive", lines(func(t Target, _ string) []string {
			if g, ok := t.(GenerationLister); ok {
				return g.Generations()
			}
			return []string{"this program does not list its generations"}
		})},
		{"errors", "", "show recent reload errors", cmdErrors},
		{"timeout", "[D|off]", "show or set this session's deadline per evaluation", cmdTimeout},
		{"quit", "", "detach the console (the program keeps running)", func(*Session, context.Context, string, func(Event)) bool { return true }},
	}
}

// command runs a meta command line such as ":objects Player".
func (s *Session) command(ctx context.Context, line string, emit func(Event)) (quit bool) {
	name, arg, _ := strings.Cut(strings.TrimPrefix(line, ":"), " ")
	arg = strings.TrimSpace(arg)
	for _, c := range commands {
		if c.name == name {
			return c.run(s, ctx, arg, emit)
		}
	}
	emit(Event{Error, fmt.Sprintf("unknown command :%s (try :help)", name)})
	return false
}

// lines makes a command that reports the lines f returns.
func lines(f func(t Target, arg string) []string) func(*Session, context.Context, string, func(Event)) bool {
	return func(s *Session, _ context.Context, arg string, emit func(Event)) bool {
		if l := f(s.target, arg); len(l) > 0 {
			emit(Event{Result, strings.Join(l, "\n")})
		} else {
			emit(Event{Result, "(none)"})
		}
		return false
	}
}

func cmdReload(s *Session, ctx context.Context, _ string, emit func(Event)) bool {
	summary, err := s.target.Reload(ctx)
	if err != nil {
		emit(Event{Error, err.Error()})
		return false
	}
	emit(Event{Result, strings.TrimRight(summary, "\n")})
	return false
}

func cmdErrors(s *Session, _ context.Context, _ string, emit func(Event)) bool {
	if errs := s.target.Errors(); len(errs) > 0 {
		emit(Event{Result, strings.Join(errs, "\n")})
	} else {
		emit(Event{Result, "no reload errors"})
	}
	return false
}

func cmdInspect(s *Session, ctx context.Context, arg string, emit func(Event)) bool {
	if arg == "" {
		emit(Event{Error, "usage: :inspect <expr>"})
		return false
	}
	proto, err := s.compile("return " + arg)
	if err != nil {
		emit(Event{Error, err.Error()})
		return false
	}
	s.eval(ctx, proto, emit, func(L *lua.LState, vals []lua.LValue) {
		p := s.printer(L, inspectStyle)
		for _, v := range vals {
			text := p.format(v)
			if _, _, ok := s.target.Describe(v); ok {
				if m := methods(v); len(m) > 0 {
					text += "\nmethods: " + strings.Join(m, ", ")
				}
			}
			emit(Event{Result, text})
		}
	})
	return false
}

func cmdTimeout(s *Session, _ context.Context, arg string, emit func(Event)) bool {
	switch arg {
	case "":
	case "off", "0":
		s.SetTimeout(0)
	default:
		d, err := time.ParseDuration(arg)
		if err != nil || d <= 0 {
			emit(Event{Error, fmt.Sprintf("usage: :timeout D (such as 10s or 500ms) or :timeout off; %q is not a duration", arg)})
			return false
		}
		s.SetTimeout(d)
	}
	if s.timeout == 0 {
		emit(Event{Result, "evaluations have no deadline: one that does not end holds the program until Ctrl-C"})
	} else {
		emit(Event{Result, fmt.Sprintf("evaluations stop after %v", s.timeout)})
	}
	return false
}

// maxObjectLines bounds what :objects prints for one request.
const maxObjectLines = 200

// objectLineWidth is the width :objects cuts each object's line to.
const objectLineWidth = 110

func cmdObjects(s *Session, ctx context.Context, class string, emit func(Event)) bool {
	err := s.do(ctx, emit, func(L *lua.LState) error {
		objs := s.liveObjects(L, class)
		if len(objs) == 0 {
			emit(Event{Result, "(none)"})
			return nil
		}
		p := s.printer(L, style{maxDepth: 1, maxItems: 6, width: 1 << 20})
		var out []string
		for _, o := range objs[:min(len(objs), maxObjectLines)] {
			out = append(out, summary(p, o, objectLineWidth))
		}
		if more := len(objs) - maxObjectLines; more > 0 {
			out = append(out, fmt.Sprintf("... (%d more; objects(%q) lists them all)", more, class))
		}
		emit(Event{Result, strings.Join(out, "\n")})
		return nil
	})
	if err != nil {
		emit(Event{Error, s.errorText(ctx, err)})
	}
	return false
}

func cmdBind(s *Session, ctx context.Context, arg string, emit func(Event)) bool {
	name, num, _ := strings.Cut(arg, " ")
	id, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(num), "#"))
	if !isIdentifier(name) || err != nil {
		emit(Event{Error, "usage: :bind NAME N (for example :bind boss 12; obj(12) does the same in Lua)"})
		return false
	}
	err = s.do(ctx, emit, func(L *lua.LState) error {
		t := s.objectByID(L, id)
		if t == nil {
			return errors.New(noLiveObject(id))
		}
		s.ns.vars.RawSetString(name, t)
		emit(Event{Result, name + " = " + s.printer(L, resultStyle).format(t)})
		return nil
	})
	if err != nil {
		emit(Event{Error, s.errorText(ctx, err)})
	}
	return false
}
