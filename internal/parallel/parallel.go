// Package parallel runs independent pieces of work on a few goroutines.
package parallel

import (
	"context"
	"runtime"
	"sync"
)

// Each calls fn(i) for every i in [0, n) on workers goroutines (GOMAXPROCS when workers <= 0)
// and waits for them. It stops handing out work once ctx is done, and returns ctx's error then.
func Each(ctx context.Context, n, workers int, fn func(i int)) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}
