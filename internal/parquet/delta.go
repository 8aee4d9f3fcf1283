package parquet

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The delta and byte-stream-split encodings other writers use in data
// pages v2 (https://parquet.apache.org/docs/file-format/data-pages/encodings/):
// read only.

var errDelta = errors.New("malformed delta-encoded data")

// decodeDeltaInts decodes a DELTA_BINARY_PACKED run of n values from b,
// returning them (as int64, wrapping as the writer's type does when
// narrowed) and the bytes read.
func decodeDeltaInts(b []byte, n int) ([]int64, int, error) {
	start := len(b)
	next := func() (uint64, error) {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, fmt.Errorf("%w: bad varint", errDelta)
		}
		b = b[k:]
		return v, nil
	}
	zigzag := func() (int64, error) {
		u, err := next()
		return int64(u>>1) ^ -int64(u&1), err
	}
	var head [3]uint64 // the block size, the miniblocks in a block, the values
	for i := range head {
		var err error
		if head[i], err = next(); err != nil {
			return nil, 0, err
		}
	}
	blockSize, miniblocks, total := head[0], head[1], head[2]
	first, err := zigzag()
	if err != nil {
		return nil, 0, err
	}
	if blockSize == 0 || blockSize%128 != 0 || blockSize > 1<<16 || miniblocks == 0 || blockSize%miniblocks != 0 || (blockSize/miniblocks)%32 != 0 {
		return nil, 0, fmt.Errorf("%w: blocks of %d values in %d miniblocks", errDelta, blockSize, miniblocks)
	}
	if total != uint64(n) {
		return nil, 0, fmt.Errorf("%w: %d values, the page has %d", errDelta, total, n)
	}
	out := make([]int64, 0, n)
	if n == 0 {
		return out, start - len(b), nil
	}
	out = append(out, first)
	per := int(blockSize / miniblocks)
	var packed []uint32
	for len(out) < n {
		minDelta, err := zigzag()
		if err != nil {
			return nil, 0, err
		}
		if uint64(len(b)) < miniblocks {
			return nil, 0, fmt.Errorf("%w: truncated bit widths", errDelta)
		}
		widths := b[:miniblocks]
		b = b[miniblocks:]
		for _, w := range widths {
			if len(out) == n {
				break
			}
			if w > 64 {
				return nil, 0, fmt.Errorf("%w: a bit width of %d", errDelta, w)
			}
			size := per * int(w) / 8
			if len(b) < size {
				return nil, 0, fmt.Errorf("%w: truncated miniblock", errDelta)
			}
			if w > 32 {
				// Wider than unpack goes: read the values 64 bits at a time.
				for i := 0; i < per && len(out) < n; i++ {
					d := bitsAt(b, i*int(w), int(w))
					out = append(out, out[len(out)-1]+minDelta+int64(d))
				}
			} else {
				packed = unpack(packed[:0], b[:size], int(w), per)
				for _, d := range packed {
					if len(out) == n {
						break
					}
					out = append(out, out[len(out)-1]+minDelta+int64(d))
				}
			}
			b = b[size:]
		}
	}
	return out, start - len(b), nil
}

// bitsAt returns the width bits of b from bit off, LSB first.
func bitsAt(b []byte, off, width int) uint64 {
	var v uint64
	for i := range width {
		bit := off + i
		v |= uint64(b[bit/8]>>(bit%8)&1) << i
	}
	return v
}

// decodeDeltaLengths decodes DELTA_LENGTH_BYTE_ARRAY: n lengths, then the
// bytes of the n values one after another. It returns the values and the
// bytes read.
func decodeDeltaLengths(b []byte, n int) ([][]byte, int, error) {
	lengths, k, err := decodeDeltaInts(b, n)
	if err != nil {
		return nil, 0, fmt.Errorf("lengths: %w", err)
	}
	out := make([][]byte, 0, n)
	for _, l := range lengths {
		if l < 0 || l > int64(len(b)-k) {
			return nil, 0, fmt.Errorf("%w: a value of %d bytes, %d left", errDelta, l, len(b)-k)
		}
		out = append(out, b[k:k+int(l):k+int(l)])
		k += int(l)
	}
	return out, k, nil
}

// decodeDeltaStrings decodes DELTA_BYTE_ARRAY: n prefix lengths, then the
// suffixes as DELTA_LENGTH_BYTE_ARRAY; each value is the prefix of the one
// before, then its suffix.
func decodeDeltaStrings(b []byte, n int) ([][]byte, error) {
	prefixes, k, err := decodeDeltaInts(b, n)
	if err != nil {
		return nil, fmt.Errorf("prefix lengths: %w", err)
	}
	suffixes, _, err := decodeDeltaLengths(b[k:], n)
	if err != nil {
		return nil, fmt.Errorf("suffixes: %w", err)
	}
	out := make([][]byte, 0, n)
	var prev []byte
	for i, p := range prefixes {
		if p < 0 || p > int64(len(prev)) {
			return nil, fmt.Errorf("%w: a prefix of %d bytes of a value of %d", errDelta, p, len(prev))
		}
		v := make([]byte, 0, int(p)+len(suffixes[i]))
		v = append(append(v, prev[:p]...), suffixes[i]...)
		out = append(out, v)
		prev = v
	}
	return out, nil
}

// unsplit undoes BYTE_STREAM_SPLIT of n values of width bytes: byte j of
// value i is at j*n+i.
func unsplit(b []byte, n, width int) ([]byte, error) {
	if len(b) < n*width {
		return nil, fmt.Errorf("%d values of %d bytes in %d bytes", n, width, len(b))
	}
	out := make([]byte, n*width)
	for i := range n {
		for j := range width {
			out[i*width+j] = b[j*n+i]
		}
	}
	return out, nil
}
