package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(hotlua(context.Background(), os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}))
}
