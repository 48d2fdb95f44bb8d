package console

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/chzyer/readline"
)

// maxHistory is how many history entries are loaded and kept in memory.
const maxHistory = 500

// history is a history file of one entry per line, kept with mode 0600
// (readline's own history file would be created world-readable, and
// console input may hold secrets). An entry is a whole chunk: its newlines
// and backslashes are escaped as in the protocol, which historyHeader, the
// file's first line, announces; a file without it has one line per entry.
// A nil *history keeps nothing. It is used by one goroutine.
type history struct {
	f       *os.File
	entries []string
	rl      *readline.Instance // also told about new entries, if set
}

func openHistory(path string) (*history, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("console: history: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("console: history: %w", err)
	}
	h := &history{f: f}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	escaped, first := false, true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first, escaped = false, line == historyHeader
			if escaped {
				continue
			}
		}
		if escaped {
			line = unescaper.Replace(line)
		}
		if strings.TrimSpace(line) != "" {
			h.entries = append(h.entries, line)
		}
	}
	if first { // a new file
		if _, err := f.WriteString(historyHeader + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("console: history: %w", err)
		}
	}
	if len(h.entries) > maxHistory {
		h.entries = h.entries[len(h.entries)-maxHistory:]
	}
	return h, nil
}

// historyHeader starts a history file whose entries are escaped.
const historyHeader = "# hotlua console history; one chunk a line, \\n is a newline"

// add records a chunk, its lines joined by newlines, as one entry.
func (h *history) add(entry string) {
	if h == nil || strings.TrimSpace(entry) == "" {
		return
	}
	h.entries = append(h.entries, entry)
	if h.rl != nil {
		_ = h.rl.SaveHistory(oneLine(entry))
	}
	_, _ = h.f.WriteString(escaper.Replace(entry) + "\n")
}

// lineMark stands for a newline of a multi-line chunk while it is edited:
// readline edits one line, and redraws a buffer holding newlines over the
// rows above it. A recalled chunk shows on one line, its lines separated by
// the mark, and is sent with newlines again.
const lineMark = "\u2424" // ␤, SYMBOL FOR NEWLINE

// oneLine returns the chunk as readline edits it (see lineMark).
func oneLine(chunk string) string { return strings.ReplaceAll(chunk, "\n", lineMark) }

// fromOneLine returns a line read from readline as the chunk it stands for.
func fromOneLine(edited string) string { return strings.ReplaceAll(edited, lineMark, "\n") }

func (h *history) close() {
	if h != nil {
		h.f.Close()
	}
}
