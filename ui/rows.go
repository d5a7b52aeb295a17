package ui

import (
	"slices"

	"fyne.io/fyne/v2"
)

// keyedRows keeps one row per key in a box, in the keys' order. Rows whose
// key stays are reused, so their state (a pulsing dot, a switch that is
// busy) survives a report; empty shows while there are no keys.
type keyedRows[R any] struct {
	box   *fyne.Container
	empty fyne.CanvasObject
	make  func(key string) R
	root  func(R) fyne.CanvasObject
	rows  map[string]R
	keys  []string
}

func newKeyedRows[R any](box *fyne.Container, empty fyne.CanvasObject, make func(string) R, root func(R) fyne.CanvasObject) *keyedRows[R] {
	k := &keyedRows[R]{box: box, empty: empty, make: make, root: root, rows: map[string]R{}}
	box.Add(empty)
	return k
}

// set shows the rows for keys, making missing ones and dropping the rest;
// the box is rebuilt only when the keys or their order change.
func (k *keyedRows[R]) set(keys []string) {
	if slices.Equal(keys, k.keys) {
		return
	}
	k.box.RemoveAll()
	next := make(map[string]R, len(keys))
	for _, key := range keys {
		r, ok := k.rows[key]
		if !ok {
			r = k.make(key)
		}
		next[key] = r
		k.box.Add(k.root(r))
	}
	if len(keys) == 0 {
		k.box.Add(k.empty)
	}
	k.rows, k.keys = next, slices.Clone(keys)
}

// get is the row for key (the zero R if key is not shown).
func (k *keyedRows[R]) get(key string) R { return k.rows[key] }
