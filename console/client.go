package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chzyer/readline"
)

// ClientOptions configures [Attach] and [Run]. The zero value uses the
// process's standard streams and keeps no history. The streams are used by
// one session at a time.
type ClientOptions struct {
	// Token is sent as "AUTH <token>"; needed for a tcp console.
	Token string
	// HistoryFile keeps the chunks typed at a terminal across runs, with
	// mode 0600; a multi-line chunk is one entry, recalled whole. Input
	// read from a pipe or a file is not kept. Default "": no history file.
	HistoryFile string
	// Stdin, Stdout and Stderr default to the process's. Line editing,
	// completion and colors are used only when Stdin is os.Stdin and a
	// terminal; otherwise input is read line by line and output is plain.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// EvalTimeout is, for [Run], the deadline of one evaluation, as
	// [ServeOptions.EvalTimeout]. Default [DefaultEvalTimeout]; negative
	// means none. [Attach] uses the server's.
	EvalTimeout time.Duration
	// Logger is, for [Run], where its session and evaluations are logged,
	// as [ServeOptions.Logger]; a host whose log goes to the same terminal
	// may pass a quieter one. Default slog.Default(). [Attach] ignores it.
	Logger *slog.Logger
}

// completionTimeout bounds the wait for the server's completions.
const completionTimeout = 2 * time.Second

// Attach connects to the console at addr and runs an interactive session
// until the user detaches (Ctrl-D or :quit), the server goes away or ctx is
// done. Ctrl-C interrupts a running evaluation or drops a pending chunk.
// Input that is not a terminal is evaluated line by line to its end, which
// then returns an error if a chunk failed or is left incomplete.
// Call it from one goroutine; it owns the standard streams while it runs.
func Attach(ctx context.Context, addr string, opts ClientOptions) error {
	conn, err := dial(ctx, addr)
	if err != nil {
		return err
	}
	return interact(ctx, conn, opts)
}

// Run runs an interactive console on the process's own terminal (or
// opts' streams) against t, the in-process counterpart of [Attach]; it
// uses the same session code as [Serve], with the default limits.
func Run(ctx context.Context, t Target, opts ClientOptions) error {
	server, client := net.Pipe()
	sopts := ServeOptions{Token: opts.Token, EvalTimeout: opts.EvalTimeout, Logger: opts.Logger}.withDefaults()
	done := make(chan struct{})
	go func() {
		defer close(done)
		serveConn(ctx, server, t, sopts, sopts.Logger.With("session", "local"), func() {}, make(chan struct{}, 1))
	}()
	err := interact(ctx, client, opts)
	client.Close()
	<-done
	return err
}

// Exec evaluates each of codes in turn (a chunk, or a meta command such as
// ":reload") in one session of the console at addr, the non-interactive
// `hotlua console -e CODE ADDR`, and stops at the first that fails. It
// writes printed output and results to stdout and errors to stderr, and
// returns the exit code: 0 on success, 1 on any error. Safe for concurrent
// use.
func Exec(addr, token string, stdout, stderr io.Writer, codes ...string) int {
	conn, err := dial(context.Background(), addr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	c := newClientConn(conn, token)
	defer c.close()
	sent, failed := 0, false
	for m := range c.msgs {
		switch m.tag {
		case tagOut, tagResult:
			if sent > 0 {
				fmt.Fprintln(stdout, m.payload)
			}
		case tagError:
			fmt.Fprintln(stderr, m.payload)
			failed = failed || isFailure(m.payload)
		case tagPrompt, tagMore:
			if m.tag == tagMore {
				fmt.Fprintln(stderr, "console: incomplete chunk")
				failed = true
			}
			if failed || sent == len(codes) {
				return exitCode(failed)
			}
			c.send(tagEval, codes[sent])
			sent++
		case tagBye:
			return exitCode(failed)
		}
	}
	if !failed { // a refused client has been told why: say it once
		fmt.Fprintln(stderr, errGone)
	}
	return 1
}

func exitCode(failed bool) int {
	if failed {
		return 1
	}
	return 0
}

// message is one decoded line from the server.
type message struct{ tag, payload string }

// clientConn is the client end of the protocol. send is safe for
// concurrent use; msgs and comps are read by one goroutine at a time.
type clientConn struct {
	conn  net.Conn
	mu    sync.Mutex
	msgs  chan message  // everything but completions; closed at EOF
	comps chan message  // completion replies
	gone  chan struct{} // closed when the server has closed the connection
}

func newClientConn(conn net.Conn, token string) *clientConn {
	c := &clientConn{conn: conn, msgs: make(chan message, 16), comps: make(chan message, 1), gone: make(chan struct{})}
	go c.read()
	c.send(tagAuth, token)
	return c
}

func (c *clientConn) read() {
	defer close(c.msgs)
	defer close(c.gone)
	sc := bufio.NewScanner(c.conn)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		tag, payload := decode(sc.Text())
		if tag == tagComplete {
			select {
			case c.comps <- message{tag, payload}:
			default:
			}
			continue
		}
		c.msgs <- message{tag, payload}
	}
}

func (c *clientConn) send(tag, payload string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = io.WriteString(c.conn, encode(tag, payload))
}

func (c *clientConn) close() {
	c.conn.Close()
	for range c.msgs {
	}
}

// complete asks the server for completions of the text before the cursor
// and returns them in readline's form: the suffixes to insert and the
// length of the partial word they extend.
func (c *clientConn) complete(before string) ([][]rune, int) {
	for len(c.comps) > 0 { // a late reply to an earlier request
		<-c.comps
	}
	c.send(tagComplete, before)
	select {
	case m := <-c.comps:
		fields := strings.Fields(m.payload)
		if len(fields) == 0 {
			return nil, 0
		}
		n, err := strconv.Atoi(fields[0])
		if err != nil {
			return nil, 0
		}
		var out [][]rune
		for _, name := range fields[1:] {
			if len(name) >= n {
				out = append(out, []rune(name[n:]))
			}
		}
		return out, n
	case <-time.After(completionTimeout):
		return nil, 0
	}
}

// lineSource reads the user's lines: a terminal with line editing, or any
// reader.
type lineSource interface {
	readLine(prompt string) (string, error) // errInterrupted on Ctrl-C
	greet(text string)
	printErr(text string)
	close()
}

// interact runs the client side of a session on conn and closes it.
func interact(ctx context.Context, conn net.Conn, opts ClientOptions) error {
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c := newClientConn(conn, opts.Token)
	defer c.close()
	var src lineSource
	var hist *history // piped input is no history
	plain := true
	if f, ok := opts.Stdin.(*os.File); ok && f == os.Stdin && readline.IsTerminal(int(f.Fd())) {
		var err error
		if hist, err = openHistory(opts.HistoryFile); err != nil {
			return err
		}
		defer hist.close()
		if src, err = newTerminal(c, hist, opts); err != nil {
			return err
		}
		plain = false
	} else {
		in := bufio.NewScanner(opts.Stdin)
		in.Buffer(nil, defaultMaxLineBytes) // a line the server takes by default
		src = &plainSource{in: in, errOut: opts.Stderr}
	}
	defer src.close()
	// Read from a pipe or a file, input fails as a whole when a chunk of it
	// failed, or is left incomplete at its end, as with -e.
	failed := false

	// Ctrl-C outside line editing arrives as SIGINT: interrupt the
	// evaluation that runs.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer func() { signal.Stop(sigs); close(sigs) }()
	go func() {
		for range sigs {
			c.send(tagInterrupt, "")
		}
	}()

	var chunk []string
	greeted := false
	for m := range c.msgs {
		switch m.tag {
		case tagHello:
			greeted = true
			src.greet(m.payload)
		case tagOut, tagResult:
			fmt.Fprintln(opts.Stdout, m.payload)
		case tagError:
			if !greeted { // refused: a wrong token, too many sessions
				return errors.New(m.payload)
			}
			src.printErr(m.payload)
			failed = failed || isFailure(m.payload)
		case tagBye:
			hist.add(strings.Join(chunk, "\n"))
			if plain && failed {
				return errInputFailed
			}
			return nil
		case tagPrompt, tagMore:
			if m.tag == tagPrompt {
				hist.add(strings.Join(chunk, "\n"))
				chunk = nil
			}
			line, err := readOrGone(src, m.payload, c.gone)
			switch {
			case errors.Is(err, errGone):
				return closedError(ctx)
			case errors.Is(err, errInterrupted):
				chunk = nil
				c.send(tagDrop, "")
			case err != nil && !errors.Is(err, io.EOF):
				return err // a line too long to read, a read error
			case err != nil && plain && m.tag == tagMore:
				return errIncomplete // end of input inside a chunk
			case err != nil && plain && failed:
				return errInputFailed
			case err != nil:
				return nil // Ctrl-D or end of input: detach
			default:
				if strings.TrimSpace(line) != "" {
					chunk = append(chunk, line)
				}
				c.send(tagEval, line)
			}
		}
	}
	return closedError(ctx)
}

// isFailure reports whether an error the server sent is a failure, not the
// notice that print output was dropped.
func isFailure(msg string) bool { return !strings.HasPrefix(msg, outputDropped) }

// errInputFailed is what a console reading a pipe or a file returns at its
// end when a chunk of it failed (the error was printed).
var errInputFailed = errors.New("console: the input had errors")

// errGone is what readOrGone returns when the server went away first.
var errGone = errors.New("console: connection closed by the program")

// closedError is interact's error when the connection ended under it.
func closedError(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errGone
}

// readOrGone reads a line from src, or returns errGone as soon as gone is
// closed, so that the client leaves at once when the program goes away,
// not at the next key.
func readOrGone(src lineSource, prompt string, gone <-chan struct{}) (string, error) {
	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		line, err := src.readLine(prompt)
		done <- result{line, err}
	}()
	select {
	case r := <-done:
		return r.line, r.err
	case <-gone:
		src.close() // ends a terminal's read; a plain reader's stays blocked until its input ends
		return "", errGone
	}
}

// plainSource reads lines from any reader and shows no prompts.
type plainSource struct {
	in     *bufio.Scanner
	errOut io.Writer
}

func (p *plainSource) readLine(string) (string, error) {
	if p.in.Scan() {
		line := p.in.Text()
		if n := len(encode(tagEval, line)); n > defaultMaxLineBytes { // escaped, as it is sent
			return "", fmt.Errorf("console: a line of %d bytes as sent, over the console's limit of %d", n, defaultMaxLineBytes)
		}
		return line, nil
	}
	if err := p.in.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

func (p *plainSource) printErr(text string) { fmt.Fprintln(p.errOut, text) }
func (p *plainSource) greet(string)         {}
func (p *plainSource) close()               {}

// terminal edits lines with readline, completes through the server and
// colors errors.
type terminal struct {
	rl    *readline.Instance
	stdin *readline.CancelableStdin // closed first: readline's Close waits for its read
}

type completer func(line []rune, pos int) ([][]rune, int)

func (f completer) Do(line []rune, pos int) ([][]rune, int) { return f(line, pos) }

func newTerminal(c *clientConn, hist *history, opts ClientOptions) (*terminal, error) {
	stdin := readline.NewCancelableStdin(os.Stdin)
	rl, err := readline.NewEx(&readline.Config{
		Stdin:                  stdin,
		AutoComplete:           completer(func(line []rune, pos int) ([][]rune, int) { return c.complete(string(line[:pos])) }),
		InterruptPrompt:        "^C",
		DisableAutoSaveHistory: true,
		HistoryLimit:           maxHistory,
		Stdout:                 opts.Stdout,
		Stderr:                 opts.Stderr,
	})
	if err != nil {
		return nil, err
	}
	if hist != nil {
		for _, e := range hist.entries {
			_ = rl.SaveHistory(oneLine(e))
		}
		hist.rl = rl
	}
	return &terminal{rl: rl, stdin: stdin}, nil
}

func (t *terminal) readLine(prompt string) (string, error) {
	t.rl.SetPrompt(prompt)
	line, err := t.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", errInterrupted
	}
	return fromOneLine(line), err
}

func (t *terminal) printErr(text string) {
	fmt.Fprintf(t.rl.Stderr(), "\x1b[31m%s\x1b[0m\n", text)
}

func (t *terminal) greet(text string) { fmt.Fprintln(t.rl.Stdout(), text) }
func (t *terminal) close() {
	t.stdin.Close()
	t.rl.Close()
}
