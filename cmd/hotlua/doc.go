// Command hotlua runs Lua scripts with live reload, checks them, and attaches
// a console to a running program.
//
// Usage:
//
//	hotlua run [--console ADDR] [--tick D] [--poll D] [-v] DIR
//	hotlua check DIR
//	hotlua console [-e CODE] [--token-file FILE] ADDR
//	hotlua version
//	hotlua help [COMMAND]
//
// Flags come before the arguments. "hotlua help COMMAND" and
// "hotlua COMMAND -h" describe each command.
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
// on loopback and requires a token, generated at start, printed on stderr and
// written to a file of mode 0600 in the user's cache directory, removed at
// exit. --console off serves none.
//
// # check
//
// Check compiles and loads every script under DIR in a fresh state and runs
// the checks the scripts register with hot.check, as a reload would, for
// editors and CI. It prints each problem on its own line of stdout as
// path:line:col: message, with the path relative to DIR, or
// "ok: N scripts, M classes".
//
// # console
//
// Console attaches an interactive console, with line editing and a history
// file in the user's cache directory, to the program listening at ADDR; with
// -e it evaluates CODE, prints the result and exits. The token of a tcp
// console comes from the file --token-file names (run writes one, mode
// 0600) or from the environment variable
// HOTLUA_CONSOLE_TOKEN.
//
// # Exit codes
//
//	0  success
//	1  problems found (check), a failed evaluation (console -e), or a runtime error
//	2  usage error: an unknown command or flag, a wrong number of arguments, a bad address
package main
