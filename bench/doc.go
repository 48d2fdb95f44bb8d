// Package bench measures hotlua against its baselines: raw gopher-lua doing
// the same work, plain Go as the floor, and goja (JavaScript) for context.
// Every benchmark runs beside its baseline as sub-benchmarks of one
// benchmark, in the same process and run, so their ratios mean something on
// a noisy machine.
//
// Run them all and print the markdown table of medians and ratios with
//
//	go run ./bench/cmd/benchtable
//
// (from the module root; -count, -benchtime and -bench are its flags). The
// rows of that table, their baselines and their targets are [Rows]; the
// benchmarks themselves are in this package's _test.go files:
//
//   - BenchmarkCall: one Go-to-Lua method call.
//   - BenchmarkCallEach: one method over 1,000 objects as one batch
//     (Engine.CallEach), against a raw Go loop of CallByParam per object.
//   - BenchmarkTick: one update call on each of 10k objects.
//   - BenchmarkCommitPause: how long calls are held while a reload commits,
//     with 10k, 100k and 1M live objects.
//   - BenchmarkSaveToCommitted and BenchmarkReload: a one-file change in a
//     50-file project, against a full recompile.
//   - BenchmarkMemoryObject and BenchmarkMemoryGeneration: retained heap per
//     object and per generation.
//   - BenchmarkShardReload: 16 shards reloading a one-file change, against
//     one engine and 16 independent engines.
//   - BenchmarkCallThroughput: calls from several goroutines on one engine,
//     and on shards in parallel.
//   - BenchmarkScale: synthetic projects of 50, 500 and 5,000 modules (base
//     classes, derived classes in other files, hot.class classes, utility
//     modules): a one-file reload against the raw re-run floor, and the heap
//     of the engine, per generation and per module against a raw state's.
//   - BenchmarkCommitPauseClasses: the commit pause with 50, 500 and 5,000
//     classes and a million live objects, and at 500 and 5,000 with one
//     more class, untouched, that has a __migrate hook.
//   - BenchmarkContextCheck: what gopher-lua's per-instruction context check
//     costs the top level of 500 modules, and a loop of Lua calls.
//
// The host binding calls (ours, gopher-luar, hand-written) are measured by
// package bindings' BenchmarkMethodCall and BenchmarkFuncCall, which the
// table command runs too.
package bench
