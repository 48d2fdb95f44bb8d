package sandbox

import (
	"bytes"

	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// TokenStart returns where the token that gopher-lua's parser stopped at in
// data starts. The parser reports where its scanner was: on the last
// character of an unexpected token, or at the character where the scanner
// gave up on a malformed one (an unterminated string, "0x" without digits),
// possibly on the next line. The token text it quotes cannot say how long
// the token was in the source (a string's quotes and escapes, a long
// string's lines), so TokenStart scans data again with the same scanner up
// to that point. It returns end when no token ends there; given the end of
// the file (Line parse.EOF), the token the scanner gave up on, if any.
func TokenStart(data []byte, end ast.Position) ast.Position {
	sc := parse.NewScanner(bytes.NewReader(data), end.Source)
	var lx parse.Lexer
	for {
		tok, err := sc.Scan(&lx)
		switch {
		case err != nil, // the token the scanner gave up on
			sc.Pos.Line == end.Line && sc.Pos.Column == end.Column:
			return ast.Position{Source: end.Source, Line: tok.Pos.Line, Column: tok.Pos.Column}
		case tok.Type == parse.EOF:
			return end
		}
	}
}
