package cachefs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// helperEnv selects a helper role when the test binary is re-executed by the
// cross-process tests. The parent passes the rest through environment
// variables prefixed with FASTDAG_CACHEFS_.
const helperEnv = "FASTDAG_CACHEFS_HELPER"

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		if err := runHelper(role); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runHelper(role string) error {
	dir := os.Getenv("FASTDAG_CACHEFS_DIR")
	key, err := ParseKey(os.Getenv("FASTDAG_CACHEFS_KEY"))
	if err != nil {
		return err
	}
	c, err := Open(dir, Options{})
	if err != nil {
		return err
	}
	ctx := context.Background()
	switch role {
	case "compute":
		// Announce readiness, then wait for the start signal so that all
		// helpers race for the key at once.
		sync := os.Getenv("FASTDAG_CACHEFS_SYNC")
		if err := os.WriteFile(filepath.Join(sync, fmt.Sprintf("ready.%d", os.Getpid())), nil, 0o666); err != nil {
			return err
		}
		for {
			if _, err := os.Stat(filepath.Join(sync, "go")); err == nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
		res, err := c.GetOrCompute(ctx, key, func(context.Context) (Value, error) {
			f, err := os.OpenFile(os.Getenv("FASTDAG_CACHEFS_COUNTER"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
			if err != nil {
				return Value{}, err
			}
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			// Stay in the critical section a while so that a broken
			// lock would let the others compute too.
			time.Sleep(200 * time.Millisecond)
			return Value{Node: "n", Outputs: outputs("out", fmt.Sprintf("computed by %d", os.Getpid()))}, nil
		})
		if err != nil {
			return err
		}
		if len(res.Warnings) > 0 {
			return fmt.Errorf("warnings: %v", res.Warnings)
		}
		fmt.Printf("%s", res.Outputs["out"])
		return nil
	case "hold":
		if _, err := c.Lock(ctx, key); err != nil {
			return err
		}
		fmt.Println("locked")
		// Until killed. Not select{}: with nothing else to run, the runtime
		// may call that a deadlock, exit, and so free the lock early.
		time.Sleep(time.Hour)
		return nil
	}
	return fmt.Errorf("unknown role %q", role)
}
