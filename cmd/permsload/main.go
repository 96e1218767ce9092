// Command permsload is the daemon load test: it runs permsd and a stock `opa run --server` on the
// same bundle side by side on 127.0.0.1, alternating rounds of the same inputs at the same
// concurrency, with a trivial Go JSON handler as the ceiling, and prints requests/s, p50, p99
// and RSS for each, as ratios to stock OPA. Every process it starts is stopped by its PID.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/permsets/permsets/internal/synth"
)

type config struct {
	size        string
	duration    time.Duration
	concurrency int
	rounds      int
	inputs      int
	work        string
	bin         string
	opa         string
	change      bool
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-serve-trivial" {
		serveTrivial(os.Args[2])
		return
	}
	c := config{}
	flag.StringVar(&c.size, "size", "small", "generated repository: small or large")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of one round against one server")
	flag.IntVar(&c.concurrency, "concurrency", 16, "concurrent clients (keep-alive connections)")
	flag.IntVar(&c.rounds, "rounds", 2, "rounds; each round runs permsd, stock OPA and the trivial handler in turn")
	flag.IntVar(&c.inputs, "inputs", 50000, "distinct decision inputs")
	flag.StringVar(&c.work, "work", ".cache/loadtest", "working directory")
	flag.StringVar(&c.bin, "bin", "bin", "directory with permsd and permsctl")
	flag.StringVar(&c.opa, "opa", "", "stock opa binary (default: scripts/opa.sh's cache)")
	flag.BoolVar(&c.change, "change", true, "after the rounds, change one file under load and time until it is served")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "permsload:", err)
		os.Exit(1)
	}
}

// serveTrivial is the ceiling: decode the JSON body, answer a constant.
func serveTrivial(addr string) {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(`{}`))
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"result":true}`))
	})
	_ = http.ListenAndServe(addr, nil)
}

type target struct {
	name string
	url  string // decision URL
	cmd  *exec.Cmd
}

func run(c config) error {
	if c.opa == "" {
		home, _ := os.UserHomeDir()
		matches, _ := filepath.Glob(filepath.Join(home, ".cache/permsets/opa-*/opa"))
		if len(matches) == 0 {
			return errors.New("no stock opa binary: run make opa, or pass -opa")
		}
		c.opa = matches[len(matches)-1]
	}
	repo := filepath.Join(c.work, c.size)
	o := synth.DefaultOptions()
	o.Out, o.Force, o.Inputs = repo, true, c.inputs
	switch c.size {
	case "small":
		o.Instances, o.Sets, o.Users, o.Roles, o.Pairs = 1, 50, 1000, 10, 2000
	case "large":
		o.Instances, o.Sets, o.Users, o.Roles, o.Pairs = 10, 10000, 100000, 1000, 1000000
	default:
		return fmt.Errorf("-size %q: small or large", c.size)
	}
	if _, err := synth.Generate(o); err != nil {
		return err
	}
	bodies, err := readInputs(filepath.Join(repo, "inputs.jsonl"))
	if err != nil {
		return err
	}
	bundle := filepath.Join(c.work, c.size+".tar.gz")
	if out, err := exec.Command(filepath.Join(c.bin, "permsctl"), "build", repo, "-o", bundle).CombinedOutput(); err != nil {
		return fmt.Errorf("permsctl build: %v\n%s", err, out)
	}

	var targets []*target
	defer func() {
		for _, t := range targets {
			stop(t.cmd)
		}
	}()
	start := func(name, path string, args []string, health string) (*target, error) {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(path, append(args, addrArgs(name, addr)...)...)
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		t := &target{name: name, url: "http://" + addr + "/v1/data/permsets/allow", cmd: cmd}
		if name == "trivial" {
			t.url = "http://" + addr + "/"
		}
		targets = append(targets, t)
		deadline := time.Now().Add(5 * time.Minute)
		for time.Now().Before(deadline) {
			if resp, err := http.Get("http://" + addr + health); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return t, nil
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		return nil, fmt.Errorf("%s did not become healthy", name)
	}
	self, _ := os.Executable()
	permsd, err := start("permsd", filepath.Join(c.bin, "permsd"), []string{"--dir", repo, "--log-level", "error"}, "/health")
	if err != nil {
		return err
	}
	opa, err := start("opa", c.opa, []string{"run", "--server", "--log-level", "error", "--bundle", bundle}, "/health")
	if err != nil {
		return err
	}
	trivial, err := start("trivial", self, []string{"-serve-trivial"}, "/health")
	if err != nil {
		return err
	}
	if err := sameAnswers(permsd, opa, bodies[:min(len(bodies), 2000)]); err != nil {
		return err
	}
	// The same permsd over its AuthZEN evaluation endpoint, on the same inputs mapped to AuthZEN
	// requests (authzen.go).
	authzen := &target{name: "authzen", url: strings.Replace(permsd.url, "/v1/data/permsets/allow", "/access/v1/evaluation", 1), cmd: permsd.cmd}
	azBodies, err := authzenBodies(bodies)
	if err != nil {
		return err
	}
	if err := sameAuthZENAnswers(permsd, authzen, bodies[:min(len(bodies), 2000)], azBodies); err != nil {
		return err
	}

	results := map[string][]round{}
	for r := range c.rounds {
		for _, t := range []*target{permsd, authzen, opa, trivial} {
			in := bodies
			if t == authzen {
				in = azBodies
			}
			res := load(t, in, c.concurrency, c.duration, r)
			res.rss = rssMiB(t.cmd.Process.Pid)
			results[t.name] = append(results[t.name], res)
			fmt.Fprintf(os.Stderr, "round %d %-8s %8.0f req/s p50 %6.2f ms p99 %6.2f ms RSS %5d MiB errors %d\n",
				r+1, t.name, res.rps, ms(res.p50), ms(res.p99), res.rss, res.errors)
		}
	}
	report(c, len(bodies), results)
	if c.change {
		if err := changeUnderLoad(c, repo, permsd, bodies); err != nil {
			return err
		}
	}
	return nil
}

func addrArgs(name, addr string) []string {
	if name == "trivial" {
		return []string{addr}
	}
	return []string{"--addr", addr}
}

func readInputs(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, []byte(`{"input":`+sc.Text()+`}`))
	}
	return out, sc.Err()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func stop(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func newClient(concurrency int) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2, IdleConnTimeout: time.Minute}}
}

// sameAnswers checks that permsd and stock OPA answer allow alike on the inputs.
func sameAnswers(a, b *target, bodies [][]byte) error {
	client := newClient(1)
	for i, body := range bodies {
		ra, err := post(client, a.url, body)
		if err != nil {
			return err
		}
		rb, err := post(client, b.url, body)
		if err != nil {
			return err
		}
		if !bytes.Equal(ra, rb) {
			return fmt.Errorf("input %d (%s): %s says %s, %s says %s", i, body, a.name, ra, b.name, rb)
		}
	}
	fmt.Fprintf(os.Stderr, "permsd and stock OPA agree on %d inputs\n", len(bodies))
	return nil
}

// post returns the JSON of the answer's result.
func post(client *http.Client, url string, body []byte) ([]byte, error) {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		data, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, data)
	}
	var v struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, err
	}
	return v.Result, nil
}

type round struct {
	rps      float64
	p50, p99 time.Duration
	rss      int
	errors   int64
	requests int64
}

// load runs concurrency clients against t for d, each walking the inputs from its own offset.
func load(t *target, bodies [][]byte, concurrency int, d time.Duration, seed int) round {
	client := newClient(concurrency)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		all      []time.Duration
		errCount atomic.Int64
	)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<16)
			for i := (w*7919 + seed*104729) % len(bodies); ctx.Err() == nil; i = (i + 1) % len(bodies) {
				t0 := time.Now()
				resp, err := client.Post(t.url, "application/json", bytes.NewReader(bodies[i]))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					if ctx.Err() == nil {
						errCount.Add(1)
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	r := round{requests: int64(len(all)), errors: errCount.Load(), rps: float64(len(all)) / elapsed.Seconds()}
	if len(all) > 0 {
		r.p50, r.p99 = all[len(all)/2], all[len(all)*99/100]
	}
	return r
}

// rssMiB reads a process's resident set size from /proc.
func rssMiB(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.Fields(rest)[0])
			return kb / 1024
		}
	}
	return 0
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// best is the round with the highest throughput.
func best(rs []round) round {
	b := rs[0]
	for _, r := range rs[1:] {
		if r.rps > b.rps {
			b = r
		}
	}
	return b
}

func report(c config, inputs int, results map[string][]round) {
	opa := best(results["opa"])
	fmt.Printf("\n%s repository, %d distinct inputs, %d clients, %d rounds of %v each (best round shown)\n\n", c.size, inputs, c.concurrency, c.rounds, c.duration)
	fmt.Println("| server | requests/s | p50 | p99 | RSS | vs stock OPA | errors |")
	fmt.Println("|---|---:|---:|---:|---:|---|---:|")
	for _, name := range []string{"permsd", "authzen", "opa", "trivial"} {
		r := best(results[name])
		var errs int64
		for _, x := range results[name] {
			errs += x.errors
		}
		label := map[string]string{"permsd": "permsd", "authzen": "permsd, AuthZEN `/access/v1/evaluation`", "opa": "stock `opa run --server`", "trivial": "trivial Go JSON handler (ceiling)"}[name]
		fmt.Printf("| %s | %.0f | %.2f ms | %.2f ms | %d MiB | %.2fx throughput, p99 %.2fx, RSS %.2fx | %d |\n",
			label, r.rps, ms(r.p50), ms(r.p99), r.rss, r.rps/opa.rps, float64(r.p99)/float64(opa.p99), float64(r.rss)/float64(max(opa.rss, 1)), errs)
	}
}

// changeUnderLoad edits one file of the repository while clients keep asking permsd, and reports
// how long until the new revision is served and how many requests failed meanwhile.
func changeUnderLoad(c config, repo string, permsd *target, bodies [][]byte) error {
	statusURL := strings.Replace(permsd.url, "/v1/data/permsets/allow", "/v1/status", 1)
	revision := func() string {
		resp, err := http.Get(statusURL)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		var s struct {
			Revision string `json:"revision"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&s)
		return s.Revision
	}
	before := revision()
	done := make(chan round, 1)
	go func() { done <- load(permsd, bodies, c.concurrency, 3*time.Second+c.duration, 7) }()
	time.Sleep(time.Second)
	path := filepath.Join(repo, "roles", "roles000.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	changed := strings.Replace(string(data), "name: ", "name: Changed ", 1)
	wrote := time.Now()
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		return err
	}
	var took time.Duration
	for time.Since(wrote) < 60*time.Second {
		if r := revision(); r != "" && r != before {
			took = time.Since(wrote)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r := <-done
	if took == 0 {
		return errors.New("the change was not served within 60 s")
	}
	fmt.Printf("\nA one-line change of %s under load: served %.2f s after the write; %d requests during the load, %d failed, p99 %.2f ms\n",
		filepath.Base(path), took.Seconds(), r.requests, r.errors, ms(r.p99))
	return nil
}
