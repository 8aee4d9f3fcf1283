package f1

// Unexported parts of the package, for its external tests (which may
// import package archive, unlike the internal ones).
var (
	HandleResults = handleResults
	Migrations    = migrations
)
