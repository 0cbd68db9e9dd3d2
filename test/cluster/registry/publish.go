package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// publishWorkers: requests in flight at once. The registry and this tool share 2 cores with the rest of
// cluster:up; more workers only queue.
const publishWorkers = 6

// publish pushes the test image of every reference listed in FILE (or stdin), one a line, skipping
// those whose tag already names the same index: a warm run costs one HEAD per reference. Prints
// {"pushed":N,"present":M,"seconds":S} on stdout; each failure on stderr, then exit 1.
func publish(args []string) error {
	if len(args) > 1 {
		return errors.New("usage: publish [FILE|-]")
	}
	var in io.Reader = os.Stdin
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	refs, err := readRefs(in)
	if err != nil {
		return err
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	start := time.Now()
	ctx, cancel := withTimeout(5 * time.Minute)
	defer cancel()
	var (
		mu              sync.Mutex
		pushed, present int
		failures        []string
		wg              sync.WaitGroup
		work            = make(chan string)
	)
	for range publishWorkers {
		wg.Go(func() {
			for ref := range work {
				did, err := func() (bool, error) {
					r, err := c.parse(ref)
					if err != nil {
						return false, err
					}
					return c.pushTestImage(ctx, r, defaultPlatforms, true)
				}()
				mu.Lock()
				switch {
				case err != nil:
					failures = append(failures, err.Error())
				case did:
					pushed++
				default:
					present++
				}
				mu.Unlock()
			}
		})
	}
	for _, ref := range refs {
		work <- ref
	}
	close(work)
	wg.Wait()
	for _, f := range failures {
		fmt.Fprintln(os.Stderr, f)
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d of %d references failed", len(failures), len(refs))
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"pushed": pushed, "present": present, "seconds": time.Since(start).Seconds()})
}

// readRefs: one reference a line, blank lines and #comments skipped, duplicates once.
func readRefs(in io.Reader) ([]string, error) {
	seen := map[string]bool{}
	var refs []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || seen[line] {
			continue
		}
		seen[line] = true
		refs = append(refs, line)
	}
	return refs, sc.Err()
}
