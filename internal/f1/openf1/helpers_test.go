package openf1

import "github.com/podiumhq/podium/internal/f1/openf1/openf1test"

// testClient returns a client of f whose clock is clk (nil: the real one).
func testClient(f *openf1test.Fake, clk *openf1test.Clock, cfg Config) *Client {
	cfg.BaseURL = f.BaseURL()
	c := New(cfg)
	if clk != nil {
		c.now, c.sleep = clk.Now, clk.Sleep
	}
	return c
}
