// Command hotlua runs Lua scripts with live reload, checks them, and attaches
// a console to a running program.
//
// Usage:
//
//	hotlua run [--console ADDR] [--console-allow-remote] [--tick D] [--poll D] [-v] DIR
//	hotlua check PATH...
//	hotlua console [-e CODE]... [--token-file FILE] ADDR
//	hotlua version
//	hotlua help [COMMAND]
//	hotlua run --fleet NAME [--node ID] [--cache DIR] [NATS flags]
//	hotlua publish DIR --fleet NAME [--canary N] [--wait D] [NATS flags]
//	hotlua fleet serve [--store DIR] [--listen HOST:PORT] [--allow-remote]
//	hotlua fleet status|rollback|promote NAME [NATS flags]
//
// Flags may come before or after the arguments; "--" ends them.
// "hotlua help COMMAND", "hotlua COMMAND -h" and --help describe each
// command, and --version works with every command. Every error starts with
// the command's name ("hotlua run: scripts: no such directory").
//
// # run
//
// Run loads every .lua file under DIR, reloads them when they are saved,
// calls the scripts' global tick(dt) every D (100ms by default) when they
// define one, and serves a console until SIGINT or SIGTERM. Reloads are
// reported on stderr, one line each; a failed reload prints each problem as
// path:line:col: message and the last good version keeps running.
//
// The console listens by default on a unix socket that only this user can
// reach (console.DefaultAddr). With --console tcp:HOST:PORT it listens
// on loopback and requires a token, generated at start and written to a file of
// mode 0600 in the user's cache directory, removed at exit (printed on
// stderr only when there is no cache directory); run prints the command
// that attaches with it. --console-allow-remote lets a tcp console listen on an address
// that is not loopback (it still requires the token). --console off serves
// none.
//
// # check
//
// Check compiles and loads every script under each directory PATH in a fresh
// state and runs the checks the scripts register with hot.check, as a reload
// would, for editors and CI. A PATH that is a file is checked within its
// script root (the directory above it from which the modules it requires by
// name are found, else the highest one whose every level holds .lua files)
// and only its problems are printed. It prints each problem on its own
// line of stdout as path:line:col: message, with the path relative to the
// root (for a file, the path as given), or "ok: N scripts, M classes" ("ok:
// PATH" for a file); a directory without scripts is an error. Every problem found is printed, not only the first: each refused
// file, each module whose top level fails (and each that requires one of
// those), each failed check.
//
// # console
//
// Console attaches an interactive console, with line editing and a history
// file in the user's cache directory, to the program listening at ADDR; with
// -e it evaluates CODE, prints the result and exits; several -e run in order
// in one session. The token of a tcp
// console comes from the file --token-file names (run writes one, mode
// 0600) or from the environment variable
// HOTLUA_CONSOLE_TOKEN.
//
// # fleet
//
// A fleet is many "hotlua run --fleet NAME" nodes that one publish reloads
// (see package fleet). Publish packs DIR into a bundle named by its SHA-256,
// uploads it to JetStream and sets fleet NAME's release by compare-and-set;
// with --wait it prints each node's ACK or NACK and rolls back, exiting 1,
// on a NACK or a missing ACK. Fleet status lists every node; fleet rollback
// and fleet promote change the release by compare-and-set. Fleet serve runs
// an embedded NATS server with JetStream on loopback. The NATS flags are
// --nats URL ($NATS_URL, else nats://127.0.0.1:4222) and credentials from
// files or the environment: --creds, --nkey, --nats-token-file ($NATS_TOKEN),
// --tlsca, --tlscert, --tlskey.
//
// # Exit codes
//
//	0  success
//	1  problems found (check), a failed evaluation (console -e), a rolled-back publish, or a runtime error
//	2  usage error: an unknown command or flag, a wrong number of arguments, a bad address
package main
