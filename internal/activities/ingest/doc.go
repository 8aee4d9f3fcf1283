// Package ingest brings sport activities into the operational table
// sport_activities from outside podium: a JSON API for other systems and a
// receiver of Strava's push subscription. The change-data-capture then turns
// every write into a change event, as for the generator's.
//
// # The API
//
// API serves, behind a bearer token (setting activities.api_token, a
// secret: PODIUM_ACTIVITIES_API_TOKEN or the configuration file):
//
//	POST   /api/activities        one activity (JSON object), or several (a JSON array or NDJSON)
//	PUT    /api/activities/{id}   create or replace the API's activity id
//	GET    /api/activities/{id}   read any activity
//	DELETE /api/activities/{id}   delete one of the API's activities
//
// With no token configured every request is answered 503 with how to set
// one: the API is never open by default. Bodies are capped (1 MiB) and
// validated; errors are JSON {"error": "...", "field": "..."}.
//
// # Strava
//
// Strava serves GET /strava/webhook (the subscription handshake, checked
// against strava.verify_token) and POST /strava/webhook (the events).
// Strava signs nothing, so an event is taken only from podium's subscription
// (strava.subscription_id) and about a linked athlete; any other is answered
// 200 (Strava redelivers anything else), logged once and dropped. A taken
// event is recorded in strava_events before the 200 answer, then a
// background worker (Strava.Run) processes the pending events in order, one
// object at a time, and confirms each with Strava's API before acting: it
// fetches the activity with the athlete's access token (refreshed through
// the OAuth token endpoint when it expired or was refused) and upserts it
// with source "strava" only when Strava shows it as that athlete's; a delete
// removes the row only when Strava answers 404 and the row is that athlete's;
// a deauthorization is applied only when Strava refuses the athlete's token.
//
// Strava failing: a 5xx or the network is retried with exponential backoff,
// so a crash or an outage loses no event; the same event delivered twice is
// recorded once. A revoked authorization (a 401/403 that a fresh token does
// not cure, or the refresh token refused) marks the athlete disconnected with
// Strava's answer ({"message":"Authorization Error","errors":[...]}); their
// events wait, without calls to Strava, until `podium activities strava link`
// re-authorizes them. The rate limits (X-RateLimit-Limit and
// X-RateLimit-Usage: "200,2000" and "100,1200", the 15-minute window and the
// day; X-ReadRateLimit-* likewise) are read from every answer: when a window
// is full, or Strava answers 429, no call is made until the window ends (the
// next quarter hour, or midnight UTC). Athletes are linked to employees in
// strava_athletes (podium activities strava link); their tokens are
// secrets, never logged or printed.
//
// # Activity ids
//
// The id ranges of sport_activities never overlap:
//
//	generator (generate.IDBase)      year×10⁹ + …            below 10¹³
//	live generator (LiveIDBase)      2⁶⁰ + Unix µs           [2⁶⁰, 2⁶¹)
//	Strava (StravaIDBase)            2⁶¹ + Strava's id       [2⁶¹, 3·2⁶⁰)
//	API (APIIDBase)                  3·2⁶⁰ + hash            [3·2⁶⁰, 2⁶²)
//
// Strava's activity ids (about 1.4·10¹⁰ in 2025) are offset rather than
// stored as they are: as they grow they would one day reach the generator's
// range. StravaActivityID recovers Strava's id. The API assigns an id from
// the employee, the start time and the sport (APIID), so posting the same
// activity again updates it instead of adding a duplicate; a client may give
// an id only inside the API's range.
package ingest
