// Package jsonscan reads JSON by hand, for the fast paths of decoders that
// must give exactly what encoding/json gives: it finds where a value ends,
// validating it as encoding/json does (invalid UTF-8 in strings passes, as
// it does there), and lists the members of an object without decoding
// them. The decoders it serves (package cdc's envelope, activities'
// DecodeJSON) fall back to encoding/json whenever they are not sure, so
// jsonscan may refuse valid JSON (nesting deeper than MaxDepth) but never
// accepts invalid JSON.
package jsonscan

import (
	"encoding/json"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects Value (and so
// Valid and Members) accepts: a value inside MaxDepth containers may be no
// container itself.
const MaxDepth = 64

// Valid reports whether v is one valid JSON value, whitespace around it
// aside, nesting at most MaxDepth deep. It agrees with json.Valid but for
// deeper nesting, which it refuses.
func Valid(v []byte) bool {
	end, ok := Value(v, SkipSpace(v, 0), 0)
	return ok && SkipSpace(v, end) == len(v)
}

// Members calls f with the raw key (between its quotes, escapes left as
// they are) and the raw value of each member of the JSON object that is
// all of v (whitespace around it aside), in order, validating the object
// as it goes; it stops when f returns false. ok is false when f did, or v
// is no valid JSON object, or nests deeper than MaxDepth. f may have been
// called with the first members of an object found invalid later.
func Members(v []byte, f func(key, val []byte) bool) (ok bool) {
	i := SkipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return false
	}
	i = SkipSpace(v, i+1)
	if i < len(v) && v[i] == '}' {
		return SkipSpace(v, i+1) == len(v)
	}
	for {
		if i >= len(v) || v[i] != '"' {
			return false
		}
		end, ok := String(v, i)
		if !ok {
			return false
		}
		key := v[i+1 : end-1]
		i = SkipSpace(v, end)
		if i >= len(v) || v[i] != ':' {
			return false
		}
		start := SkipSpace(v, i+1)
		if i, ok = Value(v, start, 1); !ok {
			return false
		}
		if !f(key, v[start:i]) {
			return false
		}
		i = SkipSpace(v, i)
		switch {
		case i < len(v) && v[i] == ',':
			i = SkipSpace(v, i+1)
		case i < len(v) && v[i] == '}':
			return SkipSpace(v, i+1) == len(v)
		default:
			return false
		}
	}
}

// MemberIndex returns the index in keys (at most 32 of them, in ASCII) of
// key, the raw text of a member's key as Members gives it, or -1 for a key
// that matches none, which encoding/json would ignore when decoding into a
// struct whose fields are named keys. ok is false when encoding/json might
// read key otherwise than that: a key with escapes or outside ASCII (it
// folds Unicode), one equal to one of keys but for case (it matches
// those), or one seen before (seen holds the keys seen so far, bit i for
// keys[i]; the last of repeated keys wins in encoding/json).
func MemberIndex(key []byte, keys []string, seen *uint32) (i int, ok bool) {
	for _, c := range key {
		if c == '\\' || c >= utf8.RuneSelf {
			return 0, false
		}
	}
	for i, k := range keys {
		if string(key) == k {
			if *seen&(1<<i) != 0 {
				return 0, false
			}
			*seen |= 1 << i
			return i, true
		}
		if asciiEqualFold(key, k) {
			return 0, false
		}
	}
	return -1, true
}

// asciiEqualFold reports whether ASCII a and b are equal but for case.
func asciiEqualFold(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Unquote decodes v, one valid JSON string (quotes included), as
// encoding/json decodes it into a string: without escapes and in valid
// UTF-8 it is its bytes, else encoding/json decodes it (replacing invalid
// UTF-8 by U+FFFD). The error is encoding/json's, for a v that is no JSON
// string.
func Unquote[T string | []byte](v T) (string, error) {
	inner := v[1 : len(v)-1]
	ascii := true
	for i := range len(inner) {
		switch c := inner[i]; {
		case c == '\\':
			goto decode
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	if ascii || utf8.ValidString(string(inner)) {
		return string(inner), nil
	}
decode:
	var s string
	err := json.Unmarshal([]byte(v), &s)
	return s, err
}

// SkipSpace returns the index of the first byte of s from i on that is
// not JSON whitespace (len(s) when there is none).
func SkipSpace[T string | []byte](s T, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	return i
}

// Value returns the index after the valid JSON value that starts at v[i]
// (no whitespace before it); ok is false when none does, or it nests
// deeper than MaxDepth. depth is the number of arrays and objects the
// value is inside of.
func Value(v []byte, i, depth int) (int, bool) {
	if i >= len(v) {
		return 0, false
	}
	switch c := v[i]; {
	case c == '"':
		return String(v, i)
	case c == '{', c == '[':
		if depth >= MaxDepth {
			return 0, false
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = SkipSpace(v, i+1)
		if i < len(v) && v[i] == closing {
			return i + 1, true
		}
		for {
			var ok bool
			if c == '{' {
				if i >= len(v) || v[i] != '"' {
					return 0, false
				}
				if i, ok = String(v, i); !ok {
					return 0, false
				}
				i = SkipSpace(v, i)
				if i >= len(v) || v[i] != ':' {
					return 0, false
				}
				i = SkipSpace(v, i+1)
			}
			if i, ok = Value(v, i, depth+1); !ok {
				return 0, false
			}
			i = SkipSpace(v, i)
			switch {
			case i < len(v) && v[i] == ',':
				i = SkipSpace(v, i+1)
			case i < len(v) && v[i] == closing:
				return i + 1, true
			default:
				return 0, false
			}
		}
	case c == '-' || ('0' <= c && c <= '9'):
		return Number(v, i)
	case c == 't':
		return literal(v, i, "true")
	case c == 'f':
		return literal(v, i, "false")
	case c == 'n':
		return literal(v, i, "null")
	}
	return 0, false
}

// literal returns the index after lit, which v holds from i on.
func literal(v []byte, i int, lit string) (int, bool) {
	if len(v)-i < len(lit) || string(v[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}

// String returns the index after the valid JSON string that starts at
// v[i] (a quote). Like encoding/json, it lets invalid UTF-8 pass.
func String(v []byte, i int) (int, bool) {
	if i >= len(v) || v[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(v); j++ {
		switch c := v[j]; {
		case c == '"':
			return j + 1, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			j++
			if j >= len(v) {
				return 0, false
			}
			switch v[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(v)-j <= 4 {
					return 0, false
				}
				for _, h := range v[j+1 : j+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return 0, false
					}
				}
				j += 4
			default:
				return 0, false
			}
		}
	}
	return 0, false
}

// Number returns the index after the valid JSON number that starts at
// v[i].
func Number(v []byte, i int) (int, bool) {
	if i >= len(v) {
		return 0, false
	}
	digits := func(i int) int {
		for i < len(v) && '0' <= v[i] && v[i] <= '9' {
			i++
		}
		return i
	}
	if v[i] == '-' {
		i++
	}
	switch {
	case i < len(v) && v[i] == '0':
		i++
	case i < len(v) && '1' <= v[i] && v[i] <= '9':
		i = digits(i)
	default:
		return 0, false
	}
	if i < len(v) && v[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}
