package wire

// Truncate discards the pending output after its first n bytes, so that a
// caller can take back replies written for work that then failed. n is a
// value Buffered returned since the last Flush.
func (w *Writer) Truncate(n int) {
	if n >= 0 && n <= len(w.buf) {
		w.buf = w.buf[:n]
	}
}
