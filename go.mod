module github.com/hotlua/hotlua

go 1.26

require (
	github.com/chzyer/readline v1.5.1
	github.com/creack/pty v1.1.24
	github.com/fsnotify/fsnotify v1.10.1
	github.com/yuin/gopher-lua v1.1.2
	golang.org/x/sys v0.38.0
	layeh.com/gopher-luar v1.0.11
)
