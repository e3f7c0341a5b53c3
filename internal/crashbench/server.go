package crashbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrServerExited reports that a server process ended without being
// killed, or could not start.
var ErrServerExited = errors.New("crashbench: server process exited")

// readyTimeout bounds the wait for a (re)started server to answer PING.
const readyTimeout = 5 * time.Minute

// serverKind says how to start a server on a port and data directory.
type serverKind struct {
	name string
	argv func(port int, dir string) []string
	// openTime extracts the store open time the server logged, if any.
	openTime func(log []byte) (time.Duration, bool)
}

var recoveryRE = regexp.MustCompile(`recovery=(\S+)`)

// rustyPotato runs "bin serve".
func rustyPotato(bin, durability string) serverKind {
	return serverKind{
		name: "RustyPotato",
		argv: func(port int, dir string) []string {
			return []string{bin, "serve", "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
				"--dir", dir, "--appendfsync", durability}
		},
		openTime: func(log []byte) (time.Duration, bool) {
			m := recoveryRE.FindAllSubmatch(log, -1)
			if len(m) == 0 {
				return 0, false
			}
			d, err := time.ParseDuration(string(m[len(m)-1][1]))
			return d, err == nil
		},
	}
}

// redisServer runs redis-server with an append-only file and the same
// fsync policy, and no RDB snapshots.
func redisServer(bin, durability, version string) serverKind {
	name := "Redis"
	if version != "" {
		name += " " + version
	}
	return serverKind{
		name: name,
		argv: func(port int, dir string) []string {
			return []string{bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
				"--dir", dir, "--appendonly", "yes", "--appendfsync", durability,
				"--save", "", "--daemonize", "no", "--logfile", ""}
		},
	}
}

// RedisInstalled reports whether redis-server is on the PATH.
func RedisInstalled() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

// redisVersion returns the version redis-server reports, or "".
func redisVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return ""
	}
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return ""
}

// proc is a running server process, in its own process group so that a
// kill reaches its children too (Redis forks to rewrite its AOF).
type proc struct {
	kind    serverKind
	addr    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
	killed  bool
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startProc starts the server and waits until it answers PING with PONG.
// It returns the time from process start to that first PONG.
func startProc(ctx context.Context, kind serverKind, port int, dir, logPath string) (*proc, time.Duration, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, err
	}
	defer logf.Close()
	argv := kind.argv(port, dir)
	p := &proc{kind: kind, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), logPath: logPath, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout = logf
	p.cmd.Stderr = logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("%w: start %s: %v", ErrServerExited, argv[0], err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	d, err := p.waitReady(ctx, start)
	if err != nil {
		p.kill()
		return nil, 0, err
	}
	return p, d, nil
}

// waitReady polls the server every millisecond, on fresh connections,
// until PING returns PONG (not LOADING or any other error).
func (p *proc) waitReady(ctx context.Context, start time.Time) (time.Duration, error) {
	deadline := start.Add(readyTimeout)
	for {
		if err := p.exited(); err != nil {
			return 0, err
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s did not answer PING within %s%s", p.kind.name, readyTimeout, p.logTail())
		}
		c, err := dial(p.addr, 100*time.Millisecond)
		if err != nil {
			time.Sleep(time.Millisecond)
			continue
		}
		for {
			c.deadline(10 * time.Second)
			r, err := c.do("PING")
			if err != nil {
				break
			}
			if r.kind == '+' && r.str == "PONG" {
				d := time.Since(start)
				c.close()
				return d, nil
			}
			if err := p.exited(); err != nil {
				c.close()
				return 0, err
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		c.close()
	}
}

// exited returns ErrServerExited if the process has ended unexpectedly.
func (p *proc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%w: %s: %v%s", ErrServerExited, p.kind.name, p.err, p.logTail())
	default:
		return nil
	}
}

// kill sends SIGKILL to the process group and waits for the process.
func (p *proc) kill() {
	p.killed = true
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// stop asks the server to exit (SIGTERM), then kills it if it has not
// within the timeout.
func (p *proc) stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s exited with %v after SIGTERM%s", p.kind.name, p.err, p.logTail())
		}
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // leftover children
		return nil
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("%s did not exit within %s of SIGTERM", p.kind.name, timeout)
	}
}

// openTime returns the store open time the server logged last, if known.
func (p *proc) openTime() (time.Duration, bool) {
	if p.kind.openTime == nil {
		return 0, false
	}
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return 0, false
	}
	return p.kind.openTime(b)
}

// logTail returns the last lines of the server's log, for error messages.
func (p *proc) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\n--- last lines of " + p.logPath + " ---\n" + string(bytes.Join(lines, []byte("\n")))
}
