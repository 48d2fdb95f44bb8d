// Package console is a Lua REPL into a running hotlua program, in-process
// ([Run]) or attached over a socket ([Serve], [Attach], [Exec]).
//
// # Evaluation
//
// A console talks to a [Target], in hotlua an adapter around the engine.
// Every evaluation runs inside [Target.Do], serialized with the program's
// own use of the current generation's Lua state, with the console
// interrupt as its context.
//
// Console variables (x = 1) form one namespace per program, shared by
// every session, in-process or attached, and kept with hot.persist, so they
// survive reloads and sessions, as a kernel shared by several clients does;
// reads fall through to the current generation's globals, re-pointed on
// every evaluation, so after a reload the console sees the new classes while
// its variables still hold the same objects (which switch to the new class
// code like every other). Local variables last for one chunk, as in Lua's own
// REPL. Each session has its own print (to its console), help, obj and
// objects in front of the namespace; functions of the program's scripts
// still print to the program's output.
//
// A line is first compiled as an expression ("return " .. line), then as a
// statement; "=expr" is "return expr", as in Lua 5.1's REPL. An expression
// prints its values, formatted by a pretty-printer: tables with sorted
// keys, limited in depth and length, a cycle shown as <cycle>, an object as
// <Class #n version> and its fields, where #n is a number the console gives
// the object for its life (obj(n) returns it, :bind NAME n binds it, and
// objects(class) lists a class's objects; numbers go to objects as the
// console first meets them, and to every live object, class by class in
// name order, when obj or :bind asks for one not given yet); a library as <library string>;
// a Go value bound by the host as <*pkg.Type> and the fields scripts see.
// An error shows the innermost frames of its traceback; a name the sandbox
// removed says so ("os.exit is not available in the sandbox").
//
// A chunk that ends early (gopher-lua reports the syntax error at the end
// of the input) continues on the next line with the prompt ">> ". A line
// starting with ':' outside a chunk is a meta command: :help [NAME],
// :reload, :classes, :objects [class], :bind NAME N, :inspect <expr>,
// :source Class:method, :version, :errors, :timeout [D|off], :quit. :quit
// detaches the console; nothing a console does stops the program. help(x)
// and :help NAME describe a value: an object's class and methods, a
// class, a library, the hot API, a host binding.

// # Protocol
//
// The client and the server exchange lines of the form "TAG payload". In a
// payload, a backslash is written \\, a newline \n and a carriage return
// \r, so that a payload (a multi-line chunk, a pretty-printed table) stays
// on one line.
//
// The client speaks first, and its first line must be "AUTH token" (just
// "AUTH" when the server has no token). The server answers
// "HELLO greeting" and "PROMPT > ". Then the client sends:
//
//	EVAL text   input: one line, or a whole chunk, or a meta command
//	INTR        interrupt the evaluation that runs and any queued input
//	DROP        drop the pending incomplete chunk (Ctrl-C at a prompt)
//	COMP text   list completions of text, the line before the cursor
//
// and the server answers each EVAL and DROP with any number of
//
//	OUT text    what the code printed
//	RES text    the values of an expression, or a command's report
//	ERR text    an error
//
// followed by "PROMPT > " when it waits for new input, "MORE >> " when a
// chunk is incomplete, or "BYE" after :quit, when it closes the
// connection. A COMP is answered by "COMP n name..." where n is the length
// of the partial name the names complete. An unknown request is answered
// by ERR alone. A refused connection gets at most one ERR line (a wrong
// token, too many sessions) before the server closes it. A client with
// nc(1) can type "AUTH" and "EVAL 1+1".
//
// # Security
//
// Anyone who can connect can run any code in the program, so:
//
//   - The default address ([DefaultAddr]) is a unix socket in a directory of
//     mode 0700 (created by [Listen]); the socket has mode 0600, and [Serve]
//     checks the peer's uid (SO_PEERCRED, Linux only; on other platforms
//     every unix peer is refused) against [ServeOptions.AllowedUIDs],
//     which defaults to the program's own uid.
//   - TCP only when asked ("tcp:HOST:PORT"); [Listen] refuses an address
//     that is not loopback unless [ListenOptions.AllowRemote] is set, and
//     [Serve] refuses to run on anything but a unix socket without a token
//     ([NewToken]). The token is compared in constant time; a wrong first
//     line ends the connection.
//   - A connection whose first line looks like HTTP is dropped without a
//     reply, so that a web page cannot reach a local console.
//   - Input lines are limited in size, idle sessions time out (never while
//     an evaluation runs), the number of sessions is limited, and every
//     session and evaluation is logged with log/slog.
//   - A client must authenticate within [ServeOptions.AuthTimeout] (3s),
//     a deadline for the whole first line, however slowly it trickles in.
//     Connections still authenticating have places of their own, apart
//     from the sessions; when they are full, the oldest is dropped, so
//     slow clients cannot lock the operator out. An allowed peer of a
//     unix socket needs no such place: it always gets in.
//   - Input is held to the checks scripts and load pass, with the
//     engine's limits (nesting, operator chains, concatenations, source
//     size; the sandbox's defaults for a Target without Limits):
//     gopher-lua's compiler would otherwise crash the host or run past any
//     deadline on some of it.
//   - Every evaluation has a deadline ([ServeOptions.EvalTimeout], 5s by
//     default; ":timeout 10s" or ":timeout off" per session): a runaway
//     loop typed at the console holds the program (its calls, the other
//     consoles) until it is stopped, then the program goes on. A chunk
//     that waited its whole deadline for the program to be free is not
//     run, and says so.
//   - Output goes through a bounded queue: a slow client loses print
//     output rather than stalling the program; each result, error or
//     command report sent is cut at 64 KiB, and a log record quotes at
//     most 1 KiB of an input and of its error.
//   - The client's history file has mode 0600.
package console
