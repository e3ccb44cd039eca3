package spool

import "container/heap"

// Merge calls fn with every item of the sources, in order: each source
// gives its items in order, next returning false at its end, and an item
// comparing equal to another's goes first when its source comes first.
// It stops at the first error of a source or of fn.
func Merge[T any](sources []func() (T, bool, error), less func(a, b T) bool, fn func(T) error) error {
	h := &mergeHeap[T]{less: less}
	for i, next := range sources {
		cur, ok, err := next()
		if err != nil {
			return err
		}
		if ok {
			h.items = append(h.items, mergeItem[T]{cur: cur, next: next, idx: i})
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		top := &h.items[0]
		if err := fn(top.cur); err != nil {
			return err
		}
		cur, ok, err := top.next()
		if err != nil {
			return err
		}
		if ok {
			top.cur = cur
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return nil
}

type mergeItem[T any] struct {
	cur  T
	next func() (T, bool, error)
	idx  int
}

type mergeHeap[T any] struct {
	items []mergeItem[T]
	less  func(a, b T) bool
}

func (h *mergeHeap[T]) Len() int { return len(h.items) }
func (h *mergeHeap[T]) Less(i, j int) bool {
	a, b := &h.items[i], &h.items[j]
	if h.less(a.cur, b.cur) {
		return true
	}
	if h.less(b.cur, a.cur) {
		return false
	}
	return a.idx < b.idx
}
func (h *mergeHeap[T]) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *mergeHeap[T]) Push(x any)    { h.items = append(h.items, x.(mergeItem[T])) }
func (h *mergeHeap[T]) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
