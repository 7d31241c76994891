package dag

// readyQueue is a max-heap on priority; ties go to the node written first,
// so runs are deterministic at -j1. It is written out rather than built on
// container/heap, whose interface boxes every item: two allocations per
// node on the scheduler's hottest path.
type readyItem struct {
	node int32
	prio int32
}

type readyQueue []readyItem

func (q readyQueue) Len() int { return len(q) }

func (q readyQueue) before(i, j int) bool {
	if q[i].prio != q[j].prio {
		return q[i].prio > q[j].prio
	}
	return q[i].node < q[j].node
}

func (q *readyQueue) push(it readyItem) {
	*q = append(*q, it)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.before(i, parent) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *readyQueue) pop() readyItem {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h.before(l, m) {
			m = l
		}
		if r < len(h) && h.before(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}
