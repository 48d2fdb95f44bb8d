package console

import (
	"bufio"
	"errors"
	"regexp"
	"strings"
)

// Message tags of the line protocol; doc.go describes it.
const (
	// client to server
	tagAuth      = "AUTH"
	tagEval      = "EVAL"
	tagInterrupt = "INTR"
	tagDrop      = "DROP"
	tagComplete  = "COMP"

	// server to client (and tagComplete)
	tagHello  = "HELLO"
	tagOut    = "OUT"
	tagResult = "RES"
	tagError  = "ERR"
	tagPrompt = "PROMPT"
	tagMore   = "MORE"
	tagBye    = "BYE"
)

var eventTags = [...]string{Output: tagOut, Result: tagResult, Error: tagError}

// escaper and unescaper keep a payload on one line.
var (
	escaper   = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`)
	unescaper = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\r`, "\r")
)

// encode returns the protocol line for tag and payload, with its newline.
func encode(tag, payload string) string {
	if payload == "" {
		return tag + "\n"
	}
	return tag + " " + escaper.Replace(payload) + "\n"
}

// decode splits a protocol line (without its newline) into tag and payload.
func decode(line string) (tag, payload string) {
	tag, payload, _ = strings.Cut(line, " ")
	return tag, unescaper.Replace(payload)
}

var errLineTooLong = errors.New("console: line too long")

// lineReader reads lines of at most max bytes. A read that fails (for
// example on a deadline) keeps what it read, so next can be called again.
type lineReader struct {
	r       *bufio.Reader
	max     int
	partial []byte
}

func (lr *lineReader) next() (string, error) {
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.partial = append(lr.partial, chunk...)
		if len(lr.partial) > lr.max {
			return "", errLineTooLong
		}
		switch {
		case err == nil:
			line := strings.TrimRight(string(lr.partial), "\r\n")
			lr.partial = lr.partial[:0]
			return line, nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return "", err
		}
	}
}

// httpRequest matches an HTTP/1 request line, as a browser would send to a
// local port (the cross-protocol attack Redis guards against).
var httpRequest = regexp.MustCompile(`^[A-Z]+ \S+ HTTP/\d`)

func looksLikeHTTP(line string) bool {
	return httpRequest.MatchString(line) || strings.HasPrefix(strings.ToLower(line), "host:")
}
