package console

import (
	"context"
	"fmt"
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
		{"help", "", "show this help", cmdHelp},
		{"reload", "", "build a new generation from the scripts", cmdReload},
		{"classes", "", "list classes and their versions", lines(func(t Target, _ string) []string { return t.Classes() })},
		{"objects", "[class]", "list live objects, of one class or all", lines(Target.Objects)},
		{"inspect", "<expr>", "show a value in full, with an object's methods", cmdInspect},
		{"version", "", "show the current generation", lines(func(t Target, _ string) []string { return []string{t.Version()} })},
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

func cmdHelp(_ *Session, _ context.Context, _ string, emit func(Event)) bool {
	var b strings.Builder
	b.WriteString("Enter Lua: an expression prints its values, a statement runs.\n")
	b.WriteString("Ctrl-C interrupts or drops the pending chunk; Ctrl-D detaches.\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "\n  %-18s %s", ":"+strings.TrimSpace(c.name+" "+c.args), c.help)
	}
	emit(Event{Result, b.String()})
	return false
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
	proto, err := compile("return " + arg)
	if err != nil {
		emit(Event{Error, err.Error()})
		return false
	}
	s.eval(ctx, proto, emit, func(L *lua.LState, vals []lua.LValue) {
		p := s.printer(inspectStyle)
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
		emit(Event{Result, "evaluations have no deadline"})
	} else {
		emit(Event{Result, fmt.Sprintf("evaluations stop after %v", s.timeout)})
	}
	return false
}
