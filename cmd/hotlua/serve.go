package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hotlua/hotlua/console"
	"github.com/hotlua/hotlua/engine"
)

// serveConsole serves e's console at addr ("" for the default unix socket)
// until ctx is done or the returned stop is called, which waits for it to
// end. It prints on w the address and the command that attaches; for tcp
// it writes the token to a file of mode 0600 that stop removes, and prints
// the token itself only when there is no cache directory for that file.
func serveConsole(ctx context.Context, e *engine.Engine, addr string, allowRemote bool, log *slog.Logger, w io.Writer) (stop func(), err error) {
	srv, err := console.Start(ctx, addr, console.ForEngine(e), console.ServeOptions{Logger: log, AllowRemote: allowRemote})
	if errors.Is(err, console.ErrNotLoopback) {
		return nil, fmt.Errorf("%w: --console-allow-remote allows it (the console still needs its token)", err)
	}
	if err != nil {
		return nil, err
	}
	tokenFile := ""
	switch {
	case srv.Token == "":
		fmt.Fprintf(w, "hotlua: console at %s\nhotlua: attach: hotlua console %s\n", srv.Addr, srv.Addr)
	default:
		if tokenFile, err = writeToken(srv.Token); err != nil {
			srv.Close()
			return nil, err
		}
		if tokenFile != "" { // the token stays out of the program's output
			fmt.Fprintf(w, "hotlua: console at %s (its token is in a file of mode 0600)\n", srv.Addr)
			fmt.Fprintf(w, "hotlua: attach: hotlua console --token-file %s %s\n", tokenFile, srv.Addr)
		} else {
			fmt.Fprintf(w, "hotlua: console at %s (no cache directory for the token's file)\n", srv.Addr)
			fmt.Fprintf(w, "hotlua: attach: %s=%s hotlua console %s\n", tokenEnv, srv.Token, srv.Addr)
		}
	}
	return func() {
		if err := srv.Close(); err != nil {
			log.Error("hotlua: console stopped", "err", err)
		}
		removeToken(tokenFile)
	}, nil
}

// writeToken writes token to a new file of mode 0600 in the user's cache
// directory and returns its path, or "" when there is no cache directory.
func writeToken(token string) (string, error) {
	dir, err := cacheDir()
	if err != nil {
		return "", nil // the caller prints the token instead
	}
	path := filepath.Join(dir, fmt.Sprintf("console-%d.token", os.Getpid()))
	os.Remove(path) // a stale file of a process with the same pid; O_EXCL makes the mode ours
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	_, err = fmt.Fprintln(f, token)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return path, err
}

// removeToken removes the token file at path, if any.
func removeToken(path string) {
	if path != "" {
		os.Remove(path)
	}
}
