package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// CLUSTER-NOTES: the registry's htpasswd auth accepts bcrypt only and runs bcrypt on every request (it
// has no session). At the default cost (10) each request costs ~60 ms of CPU on the test machines, and a
// cold publish makes ~600 requests; the test bed uses the lowest cost bcrypt allows (4, ~1 ms). The
// scheme is the same; only the work factor differs from a production htpasswd file.
const testBedCost = bcrypt.MinCost

// writeHtpasswd writes FILE with one "USER:bcrypt-hash" line; the password is read from stdin, never argv.
func writeHtpasswd(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: htpasswd FILE USER (password on stdin)")
	}
	file, user := args[0], args[1]
	if user == "" || strings.ContainsAny(user, ":\n") {
		return fmt.Errorf("user %q: must be non-empty, without ':' or newlines", user)
	}
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	password := strings.TrimRight(string(raw), "\r\n")
	if password == "" {
		return errors.New("empty password on stdin")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), testBedCost)
	if err != nil {
		return err
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}
