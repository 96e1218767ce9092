package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress shows the phase a long command is in ("loading access", "compiling", "planning")
// on stderr, on a terminal only, as one line rewritten in place and cleared when the command
// ends: on the large benchmark repository a plan or an audit takes seconds. Off a terminal (CI,
// a pipe, tests) it writes nothing, so logs and goldens never see it.
type progress struct {
	w     io.Writer
	on    bool
	mu    sync.Mutex
	start time.Time
	shown bool
}

// newProgress shows progress on w when w is a terminal.
func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, on: ok && isTerminal(f), start: time.Now()}
}

// phase replaces the line with the phase now starting and the time since the command started.
func (p *progress) phase(format string, args ...any) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\x1b[K%s… (%.1fs)", fmt.Sprintf(format, args...), time.Since(p.start).Seconds())
	p.shown = true
}

// done clears the line, before the command's own output or error.
func (p *progress) done() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// clearFirst clears the progress line before anything else is written to the terminal, so
// output and errors never share a line with it.
type clearFirst struct {
	w io.Writer
	p *progress
}

func (c clearFirst) Write(b []byte) (int, error) {
	c.p.done()
	return c.w.Write(b)
}

// unwrapped is the writer under a clearFirst (for terminal detection), or w itself.
func unwrapped(w io.Writer) io.Writer {
	if c, ok := w.(clearFirst); ok {
		return c.w
	}
	return w
}
