package socketio

import "sync"

// taskQueue runs functions one at a time, in push order, on one goroutine.
// push blocks while the queue holds limit items (backpressure on the reader)
// unless force is set; force is for control items pushed from inside a task,
// which must never wait on the goroutine that runs them.
type taskQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []func()
	limit  int
	closed bool
}

func newTaskQueue(limit int) *taskQueue {
	q := &taskQueue{limit: limit}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push appends f; it reports false when the queue is closed.
func (q *taskQueue) push(f func(), force bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !force && !q.closed && len(q.items) >= q.limit {
		q.cond.Wait()
	}
	if q.closed {
		return false
	}
	q.items = append(q.items, f)
	q.cond.Broadcast()
	return true
}

// close stops accepting items; run finishes the items already queued.
func (q *taskQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// run executes items until the queue is closed and empty.
func (q *taskQueue) run() {
	for {
		q.mu.Lock()
		for len(q.items) == 0 && !q.closed {
			q.cond.Wait()
		}
		if len(q.items) == 0 {
			q.mu.Unlock()
			return
		}
		f := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		q.cond.Broadcast()
		q.mu.Unlock()
		f()
	}
}
