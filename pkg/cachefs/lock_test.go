package cachefs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

func helperCmd(t *testing.T, role, dir string, key Key, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, "FASTDAG_CACHEFS_DIR="+dir, "FASTDAG_CACHEFS_KEY="+key.String())
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// Four processes race to compute one key: exactly one computes, all four
// return its value.
func TestCrossProcessSingleFlight(t *testing.T) {
	const n = 4
	dir, sync := t.TempDir(), t.TempDir()
	counter := filepath.Join(t.TempDir(), "counter")
	key := testKey("shared")
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = helperCmd(t, "compute", dir, key, "FASTDAG_CACHEFS_SYNC="+sync, "FASTDAG_CACHEFS_COUNTER="+counter)
		outs[i] = new(bytes.Buffer)
		cmds[i].Stdout = outs[i]
		cmds[i].Stderr = os.Stderr
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for {
		ready, _ := filepath.Glob(filepath.Join(sync, "ready.*"))
		if len(ready) == n {
			break
		}
		time.Sleep(time.Millisecond)
	}
	os.WriteFile(filepath.Join(sync, "go"), nil, 0o666)
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper %d: %v", i, err)
		}
	}
	data, err := os.ReadFile(counter)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Fields(string(data)); len(lines) != 1 {
		t.Errorf("computed %d times (by pids %v), want once", len(lines), lines)
	}
	for i := range outs {
		if outs[i].String() != outs[0].String() || !strings.HasPrefix(outs[0].String(), "computed by ") {
			t.Errorf("helper %d got %q, helper 0 got %q", i, outs[i], outs[0])
		}
	}
}

// A lock whose holder was SIGKILLed is free: the kernel released it.
func TestLockOfKilledProcessIsTakenOver(t *testing.T) {
	dir := t.TempDir()
	key := testKey("k")
	c, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cmd := helperCmd(t, "hold", dir, key)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	if unlock, ok, err := c.locks.tryLockKey(key); ok || err != nil {
		unlock()
		t.Fatalf("lock held by the helper is free (err %v)", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	unlock, err := c.Lock(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

// flock(2) locks belong to open file descriptions, so separate opens in one
// process exclude each other. The in-process mutex relies on this only for
// speed, but GC between two Caches in one process relies on it for safety.
func TestFlockExcludesWithinProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	a, b := flock.New(path), flock.New(path)
	if ok, err := a.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := b.TryLock(); ok || err != nil {
		t.Fatalf("second flock on the same file in one process: ok=%v err=%v, want refused", ok, err)
	}
	a.Unlock()
	if ok, err := b.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	b.Unlock()
}

// Two goroutines on one key: the second waits and reuses the first's value.
// It runs with one Cache (in-process mutex) and with two Caches on the same
// directory (file lock only).
func TestGetOrComputeInProcess(t *testing.T) {
	for _, twoCaches := range []bool{false, true} {
		name := map[bool]string{false: "one cache", true: "two caches"}[twoCaches]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c1, _ := Open(dir, Options{})
			c2 := c1
			if twoCaches {
				c2, _ = Open(dir, Options{})
			}
			waiting := make(chan struct{}, 1)
			c2.locks.onWait = func(Key) {
				select {
				case waiting <- struct{}{}:
				default:
				}
			}
			key := testKey("k")
			var computed atomic.Int32
			started, release := make(chan struct{}), make(chan struct{})
			var wg sync.WaitGroup
			results := make([]*Result, 2)
			errs := make([]error, 2)
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[0], errs[0] = c1.GetOrCompute(context.Background(), key, func(context.Context) (Value, error) {
					computed.Add(1)
					close(started)
					<-release
					return Value{Outputs: outputs("out", "first")}, nil
				})
			}()
			<-started
			wg.Add(1)
			secondDone := make(chan struct{})
			go func() {
				defer wg.Done()
				defer close(secondDone)
				results[1], errs[1] = c2.GetOrCompute(context.Background(), key, func(context.Context) (Value, error) {
					computed.Add(1)
					return Value{Outputs: outputs("out", "second")}, nil
				})
			}()
			// Release the first caller once the second is blocked on the key
			// lock, or has (wrongly) finished without waiting.
			select {
			case <-waiting:
			case <-secondDone:
			}
			close(release)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("caller %d: %v", i, err)
				}
			}
			if computed.Load() != 1 || !results[0].Computed || results[1].Computed {
				t.Errorf("computed %d times (first %v, second %v), want once by the first", computed.Load(), results[0].Computed, results[1].Computed)
			}
			if got := string(results[1].Outputs["out"]); got != "first" {
				t.Errorf("second caller got %q, want the first's value", got)
			}
		})
	}
}

func TestLockHonoursContext(t *testing.T) {
	for _, twoCaches := range []bool{false, true} {
		dir := t.TempDir()
		c1, _ := Open(dir, Options{})
		c2 := c1
		if twoCaches {
			c2, _ = Open(dir, Options{})
		}
		key := testKey("k")
		unlock, err := c1.Lock(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		c2.locks.onWait = func(Key) { cancel() }
		_, err = c2.GetOrCompute(ctx, key, func(context.Context) (Value, error) {
			t.Error("computed while another holder had the lock")
			return Value{}, nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("twoCaches=%v: GetOrCompute with cancelled wait = %v, want context.Canceled", twoCaches, err)
		}
		unlock()
		// The abandoned wait left nothing behind.
		unlock, err = c2.Lock(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		unlock()
	}
}

// GC waits for a Put in progress (shared maintenance lock) and Put waits for
// GC, so a sweep never sees a blob written but not yet referenced.
func TestMaintenanceLockExcludesPut(t *testing.T) {
	c, _ := newTestCache(t)
	unlock, err := c.locks.lockMaintenance(context.Background(), false) // a Put in progress
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GC(ctx, GCOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("GC during a Put = %v, want it to wait (and see the cancellation)", err)
	}
	// Another Cache in this process takes the file lock path.
	c2, _ := Open(disk(c).Dir(), Options{})
	unlock2, err := c2.locks.lockMaintenance(context.Background(), false)
	if err != nil {
		t.Fatalf("shared locks should coexist: %v", err)
	}
	unlock2()
	if _, err := c2.GC(ctx, GCOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("GC via file lock during a Put = %v, want it to wait", err)
	}
	unlock()
	if _, err := c2.GC(ctx, GCOptions{}); err != nil {
		t.Errorf("GC after the Put: %v (a free lock is taken even with a done ctx)", err)
	}
}
