package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/saqshy/saqshy/gateway/status"
)

const hashPasswordHelp = `Usage: saqshy-gateway hash-password < password.txt > /etc/saqshy/status.pass

Reads the status page's password (the first line of standard input, at least 8
characters) and prints its bcrypt hash. Point status.password_file at the file
with the hash; the page then asks for the password. Typed at a terminal, the
password is shown as you type: prefer
  read -rs P && printf '%s\n' "$P" | saqshy-gateway hash-password | sudo tee /etc/saqshy/status.pass
`

func hashPasswordCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	return hashPassword(args, os.Stdin, stdout, stderr)
}

func hashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("hash-password", hashPasswordHelp, stderr)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "saqshy-gateway hash-password: %v\n", err)
		return 1
	}
	h, err := status.HashPassword(strings.TrimRight(line, "\r\n"))
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway hash-password: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", h)
	return 0
}
