package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

// nesting returns the deepest nesting of arrays and objects in v, a valid
// JSON text.
func nesting(v []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func TestValid(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`{}`, true},
		{` {"a" : [1, -2.5e+3, true, false, null, "x\"\u00e9\n"]} `, true},
		{`"\ud800"`, true},
		{"\"\xff\"", true}, // invalid UTF-8 passes, as in encoding/json
		{`0`, true},
		{`-0.0E-0`, true},
		{deep(MaxDepth), true},
		{deep(MaxDepth + 1), false}, // valid JSON, too deep
		{``, false},
		{` `, false},
		{`{`, false},
		{`{"a"}`, false},
		{`{"a":1,}`, false},
		{`[1,]`, false},
		{`01`, false},
		{`-`, false},
		{`1.`, false},
		{`1e`, false},
		{`.5`, false},
		{`+1`, false},
		{`tru`, false},
		{`nul`, false},
		{`"a`, false},
		{"\"\t\"", false},
		{`"\x"`, false},
		{`"\u12"`, false},
		{`"\u12g4"`, false},
		{`1 2`, false},
		{`{} x`, false},
		{"\ufeff{}", false},
		{`{'a':1}`, false},
	} {
		if got := Valid([]byte(tc.in)); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.in, got, tc.want)
		}
		if tc.want && !json.Valid([]byte(tc.in)) {
			t.Errorf("case %q: json.Valid disagrees", tc.in)
		}
	}
}

func TestMembers(t *testing.T) {
	type member struct{ key, val string }
	for _, tc := range []struct {
		in   string
		want []member
		ok   bool
	}{
		{`{}`, nil, true},
		{` { } `, nil, true},
		{`{"a":1,"b" : {"c":[1,2]} ,"a\"b":"x","":null}`,
			[]member{{"a", "1"}, {"b", `{"c":[1,2]}`}, {`a\"b`, `"x"`}, {"", "null"}}, true},
		{`[1]`, nil, false},
		{`"a"`, nil, false},
		{`{"a":1} 2`, []member{{"a", "1"}}, false},
		{`{"a":1,"b":}`, []member{{"a", "1"}}, false},
		{`{"a":1,}`, []member{{"a", "1"}}, false},
		{`{"a":1 "b":2}`, []member{{"a", "1"}}, false},
		{`{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, nil, false},
		{`{"a":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`,
			[]member{{"a", strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1)}}, true},
	} {
		var got []member
		ok := Members([]byte(tc.in), func(key, val []byte) bool {
			got = append(got, member{string(key), string(val)})
			return true
		})
		if ok != tc.ok || len(got) != len(tc.want) {
			t.Errorf("Members(%q) = %v %q, want %v %q", tc.in, ok, got, tc.ok, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("Members(%q) member %d = %q, want %q", tc.in, i, got[i], tc.want[i])
			}
		}
	}
	// f refusing a member stops the scan.
	calls := 0
	if Members([]byte(`{"a":1,"b":2}`), func(key, val []byte) bool { calls++; return false }) || calls != 1 {
		t.Errorf("Members went on after f returned false (%d calls)", calls)
	}
}

func TestMemberIndex(t *testing.T) {
	keys := []string{"id", "sport_type", "Name"}
	for _, tc := range []struct {
		keys []string // in order, one seen set
		want []int    // -2: not ok
	}{
		{[]string{"id", "sport_type", "Name", "other"}, []int{0, 1, 2, -1}},
		{[]string{"id", "id"}, []int{0, -2}},
		{[]string{"ID"}, []int{-2}},
		{[]string{"name"}, []int{-2}},
		{[]string{"Sport_Type"}, []int{-2}},
		{[]string{`i\u0064`}, []int{-2}},
		{[]string{"sport_typ\u017f"}, []int{-2}}, // ſ folds to s in encoding/json
		{[]string{"", "idx", "i"}, []int{-1, -1, -1}},
	} {
		var seen uint32
		for i, k := range tc.keys {
			got, ok := MemberIndex([]byte(k), keys, &seen)
			if !ok {
				got = -2
			}
			if got != tc.want[i] {
				t.Errorf("keys %q: MemberIndex(%q) = %d, want %d", tc.keys, k, got, tc.want[i])
			}
		}
	}
}

func TestUnquote(t *testing.T) {
	for _, in := range []string{`""`, `"abc"`, `"é ü"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\ud83d\ude00"`,
		`"\ud800"`, "\"\xff\xfe\"", "\"a\xc3\"", `"\u0000"`} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("json.Unmarshal(%q): %v", in, err)
		}
		for name, got := range map[string]func() (string, error){
			"string": func() (string, error) { return Unquote(in) },
			"bytes":  func() (string, error) { return Unquote([]byte(in)) },
		} {
			s, err := got()
			if err != nil || s != want {
				t.Errorf("Unquote(%s %q) = %q, %v; want %q", name, in, s, err, want)
			}
		}
	}
}

func TestSkipSpace(t *testing.T) {
	for _, tc := range []struct {
		in      string
		from    int
		want    int
		wantStr int
	}{
		{"", 0, 0, 0},
		{" \t\r\nx", 0, 4, 4},
		{"x  ", 1, 3, 3},
		{"\v x", 0, 0, 0}, // vertical tab is no JSON whitespace
		{"\u00a0x", 0, 0, 0},
	} {
		if got := SkipSpace([]byte(tc.in), tc.from); got != tc.want {
			t.Errorf("SkipSpace(%q, %d) = %d, want %d", tc.in, tc.from, got, tc.want)
		}
		if got := SkipSpace(tc.in, tc.from); got != tc.wantStr {
			t.Errorf("SkipSpace(string %q, %d) = %d, want %d", tc.in, tc.from, got, tc.wantStr)
		}
	}
}

// FuzzValid checks Valid against json.Valid, Members against
// encoding/json's reading of an object, and Unquote against encoding/json
// on strings.
//
//	go test ./internal/jsonscan -run '^$' -fuzz '^FuzzValid$' -fuzztime 30s
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{}`, `{"id":1,"employee_id":"1002","start_time":"2025-01-01T07:00:00Z","distance_m":1.5e3}`,
		`[1,"a\u00e9\n",{"b":[true,false,null]}]`, `"\ud83d\ude00"`, "\"\xff\"", `-0.0e+1`, `{"a":1,"a":2,"A":3}`,
		strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), `{"a" : 1 , }`, `01`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		valid, jsonValid := Valid(v), json.Valid(v)
		if valid && !jsonValid {
			t.Fatalf("Valid accepted %q, which json.Valid refuses", v)
		}
		if !valid && jsonValid && nesting(v) <= MaxDepth {
			t.Fatalf("Valid refused %q, which json.Valid accepts (nesting %d)", v, nesting(v))
		}
		var vals []json.RawMessage
		ok := Members(v, func(key, val []byte) bool {
			if !json.Valid(val) {
				t.Fatalf("Members gave invalid value %q", val)
			}
			if _, err := Unquote(append(append([]byte{'"'}, key...), '"')); err != nil {
				t.Fatalf("Members gave key %q encoding/json cannot read: %v", key, err)
			}
			vals = append(vals, val)
			return true
		})
		var obj map[string]json.RawMessage
		jsonObj := json.Unmarshal(v, &obj) == nil && obj != nil
		switch {
		case ok && !jsonObj:
			t.Fatalf("Members accepted %q, which encoding/json reads as no object", v)
		case !ok && jsonObj && valid:
			t.Fatalf("Members refused the object %q", v)
		case ok && len(obj) > len(vals):
			t.Fatalf("Members gave %d members, encoding/json %d distinct keys", len(vals), len(obj))
		}
		if valid && v[SkipSpace(v, 0)] == '"' {
			s := strings.Trim(string(v), " \t\r\n")
			var want string
			if err := json.Unmarshal(v, &want); err != nil {
				t.Fatalf("json.Unmarshal(%q): %v", v, err)
			}
			if got, err := Unquote(s); err != nil || got != want {
				t.Fatalf("Unquote(%q) = %q, %v; want %q", s, got, err, want)
			}
		}
	})
}
