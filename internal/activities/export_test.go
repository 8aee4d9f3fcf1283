package activities

// DecodeJSONFast is DecodeJSON's hand-written path, for the tests of
// package activities_test.
var DecodeJSONFast = decodeJSONFast
