// Package commute computes each employee's home-to-office distance, which
// the sports bonus depends on, through a Provider: Offline (great-circle
// distance between coordinates times a road factor, the default), OSRM or
// Google Distance Matrix routing over HTTP, and Nominatim or Google
// geocoding for homes known only by their address (Routed).
//
// Check computes the distances the store lacks and caches them in
// commute_distances. A home that cannot be placed gets no distance and is
// flagged for HR: a bonus is never paid on a guess.
//
// Addresses, coordinates and API keys are never logged nor put in errors:
// errors of the HTTP providers name the service and the host only.
package commute

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/podiumhq/podium/internal/activities/hr"
)

// Place is a home or the office: an address, coordinates (WGS 84 degrees),
// or both.
type Place struct {
	Address  string
	Lat, Lon *float64
}

// At returns the place at the given coordinates.
func At(lat, lon float64) Place { return Place{Lat: &lat, Lon: &lon} }

// HasCoordinates reports whether p has both coordinates.
func (p Place) HasCoordinates() bool { return p.Lat != nil && p.Lon != nil }

// String describes p without its address or coordinates.
func (p Place) String() string {
	switch {
	case p.HasCoordinates() && p.Address != "":
		return "place (address and coordinates)"
	case p.HasCoordinates():
		return "place (coordinates)"
	case p.Address != "":
		return "place (address)"
	}
	return "place (unknown)"
}

// Result is a distance from home to the office.
type Result struct {
	// Meters is the distance, by road or path for routing providers.
	Meters float64
	// Source names the provider(s) that computed it: "offline",
	// "osrm:driving", "nominatim+offline", "google-distance-matrix:walking".
	Source string
	// Doubt, when not empty, says why the distance may be wrong (an address
	// matched only to its town, a home far from any road): Check flags such
	// employees for HR.
	Doubt string
}

// Provider computes the distance between two places. From is the home and
// to the office: a home that cannot be placed, or from which there is no
// route, is an error wrapping ErrUnplaceable; an office that cannot be
// placed, a service down or a key refused are other errors.
type Provider interface {
	Distance(ctx context.Context, from, to Place) (Result, error)
}

// ModeAware is a Provider whose distances depend on the way the employee
// travels (a walking or cycling route rather than the road).
type ModeAware interface {
	Provider
	// ForMode returns the provider to use for employees commuting by m.
	ForMode(m hr.CommuteMode) Provider
}

// forMode returns p configured for commute mode m.
func forMode(p Provider, m hr.CommuteMode) Provider {
	if ma, ok := p.(ModeAware); ok {
		return ma.ForMode(m)
	}
	return p
}

// ErrUnplaceable means a home cannot be placed (no coordinates and no
// geocoder, no match for its address) or no route leads from it: its
// distance is unknown.
var ErrUnplaceable = errors.New("home cannot be placed")

func unplaceable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnplaceable, fmt.Sprintf(format, args...))
}

// earthRadius is the mean radius of the Earth, in meters.
const earthRadius = 6371008.8

// GreatCircle returns the distance in meters between two points on the
// Earth (the haversine formula).
func GreatCircle(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	φ1, φ2 := lat1*rad, lat2*rad
	dφ, dλ := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}

// DefaultRoadFactor is the ratio of road to great-circle distance Offline
// assumes: about 1.3 for commutes in and around a city.
const DefaultRoadFactor = 1.3

// Offline estimates distances without any service: the great-circle
// distance between the coordinates of the two places times RoadFactor. A
// place without coordinates cannot be placed.
type Offline struct {
	// RoadFactor multiplies the great-circle distance; 0 means
	// DefaultRoadFactor.
	RoadFactor float64
}

// Distance implements Provider.
func (o Offline) Distance(ctx context.Context, from, to Place) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if !to.HasCoordinates() {
		return Result{}, errors.New("offline distance: the office has no coordinates")
	}
	if !from.HasCoordinates() {
		return Result{}, unplaceable("no coordinates, and no geocoder is configured")
	}
	if err := checkCoordinates(*from.Lat, *from.Lon); err != nil {
		return Result{}, unplaceable("%v", err)
	}
	f := o.RoadFactor
	if f == 0 {
		f = DefaultRoadFactor
	}
	return Result{Meters: GreatCircle(*from.Lat, *from.Lon, *to.Lat, *to.Lon) * f, Source: "offline"}, nil
}

func checkCoordinates(lat, lon float64) error {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return errors.New("coordinates out of range")
	}
	return nil
}

// formatCoord writes a coordinate for a request URL.
func formatCoord(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }
