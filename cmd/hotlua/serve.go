package main

import (
	"context"
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
// end. For tcp it prints the token on w and writes it to a file of mode
// 0600 that stop removes.
func serveConsole(ctx context.Context, e *engine.Engine, addr string, allowRemote bool, log *slog.Logger, w io.Writer) (stop func(), err error) {
	srv, err := console.Start(ctx, addr, console.ForEngine(e), console.ServeOptions{Logger: log, AllowRemote: allowRemote})
	if err != nil {
		return nil, err
	}
	tokenFile := ""
	if srv.Token == "" {
		fmt.Fprintf(w, "hotlua: console at %s (attach: hotlua console %s)\n", srv.Addr, srv.Addr)
	} else {
		if tokenFile, err = writeToken(srv.Token); err != nil {
			srv.Close()
			return nil, err
		}
		if tokenFile != "" {
			fmt.Fprintf(w, "hotlua: console at %s (attach: hotlua console --token-file %s %s)\n", srv.Addr, tokenFile, srv.Addr)
			fmt.Fprintf(w, "hotlua: console token %s; read it from %s or set %s\n", srv.Token, tokenFile, tokenEnv)
		} else {
			fmt.Fprintf(w, "hotlua: console at %s (attach: %s=TOKEN hotlua console %s)\n", srv.Addr, tokenEnv, srv.Addr)
			fmt.Fprintf(w, "hotlua: console token %s; set %s\n", srv.Token, tokenEnv)
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
		return "", nil // the token is printed anyway
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
