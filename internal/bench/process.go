package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a `wufei serve` process of the bench's own, so that its memory
// is the server's alone.
type Server struct {
	URL     string
	Startup time.Duration // from starting the process to its first healthy answer

	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the process's exit, once exited is closed
	tail   *tail
}

// StartServer runs bin as `wufei serve` on dbURL, on a loopback port of
// its choosing, and waits for /healthz to answer 200. keyFile "" lets
// serve choose the audit key as it does by default.
func StartServer(ctx context.Context, bin, dbURL, keyFile string) (*Server, error) {
	args := []string{"serve", "--db", dbURL, "--addr", "127.0.0.1:0"}
	if keyFile != "" {
		args = append(args, "--key-file", keyFile)
	}
	cmd := exec.Command(bin, args...)
	urls := make(chan string, 1)
	s := &Server{cmd: cmd, exited: make(chan struct{}), tail: &tail{max: 8 << 10}}
	cmd.Stdout = &banner{found: urls}
	cmd.Stderr = s.tail
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start server: %w", err)
	}
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()
	select {
	case s.URL = <-urls:
	case <-s.exited:
		return nil, s.failed("exited before listening")
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	case <-time.After(5 * time.Minute):
		s.Stop()
		return nil, s.failed("not listening after 5 minutes")
	}
	// Poll as a load balancer's health check would, every 5 ms.
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		if res, err := hc.Get(s.URL + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				s.Startup = time.Since(start)
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return nil, s.failed("exited before answering /healthz")
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (s *Server) failed(what string) error {
	return fmt.Errorf("bench: server %s (%v): %s", what, s.err, s.tail)
}

// Stop ends the server gracefully (SIGTERM), or kills it after 30 s.
func (s *Server) Stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	var ee *exec.ExitError
	if s.err != nil && !errors.As(s.err, &ee) {
		return s.err
	}
	return nil
}

// Alive reports an error if the server has exited.
func (s *Server) Alive() error {
	select {
	case <-s.exited:
		return s.failed("exited")
	default:
		return nil
	}
}

// Memory is the server's resident memory now and its peak so far, in
// bytes, from /proc/PID/status (zero where there is no /proc).
func (s *Server) Memory() (rss, hwm int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(b)) {
		name, val, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm
}

// cpuTime is the CPU time the server has used so far, user and system, from
// /proc/PID/stat; ok is false where there is no /proc.
func (s *Server) cpuTime() (d time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The fields after the command name, which may hold spaces, in
	// parentheses: utime and stime are the 12th and 13th of them.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	user, _ := strconv.ParseInt(f[11], 10, 64)
	sys, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(user+sys) * time.Second / clockTicks, true
}

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's times: 100
// on every architecture Go supports.
const clockTicks = 100

// Settle waits until the server is idle — under a tenth of a core over a
// quarter of a second — so that what is measured next does not share the
// machine with the work a server does once started (the rules it tries at
// once). It gives up after limit and returns how long it waited.
func (s *Server) Settle(ctx context.Context, limit time.Duration) time.Duration {
	const every = 250 * time.Millisecond
	start := time.Now()
	last, ok := s.cpuTime()
	for ok && time.Since(start) < limit {
		select {
		case <-ctx.Done():
			return time.Since(start)
		case <-s.exited:
			return time.Since(start)
		case <-time.After(every):
		}
		var now time.Duration
		if now, ok = s.cpuTime(); ok && now-last < every/10 {
			break
		}
		last = now
	}
	return time.Since(start)
}

// Sampler reads the server's resident memory at a fixed interval until
// stopped.
type Sampler struct {
	mu      sync.Mutex
	samples []int64
	stop    chan struct{}
	done    chan struct{}
}

// Sample starts sampling s every interval.
func (s *Server) Sample(every time.Duration) *Sampler {
	sm := &Sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(sm.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if rss, _ := s.Memory(); rss > 0 {
				sm.mu.Lock()
				sm.samples = append(sm.samples, rss)
				sm.mu.Unlock()
			}
			select {
			case <-sm.stop:
				return
			case <-t.C:
			}
		}
	}()
	return sm
}

// Take returns the samples since the last Take and starts afresh.
func (sm *Sampler) Take() []int64 {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	out := sm.samples
	sm.samples = nil
	return out
}

// Stop ends the sampling and returns the samples not yet taken.
func (sm *Sampler) Stop() []int64 {
	close(sm.stop)
	<-sm.done
	return sm.Take()
}

// banner finds the address serve prints once it listens.
type banner struct {
	line  []byte
	found chan<- string
}

func (b *banner) Write(p []byte) (int, error) {
	if b.found == nil {
		return len(p), nil
	}
	b.line = append(b.line, p...)
	for {
		i := bytes.IndexByte(b.line, '\n')
		if i < 0 {
			return len(p), nil
		}
		if _, u, ok := strings.Cut(string(b.line[:i]), "listening: "); ok {
			b.found <- strings.TrimSuffix(strings.TrimSpace(u), "/")
			b.found, b.line = nil, nil
			return len(p), nil
		}
		b.line = b.line[i+1:]
	}
}

// tail keeps the last bytes written to it: the server's log, for the error
// when it fails.
type tail struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}
