//! End-to-end tests live in `tests/tests/`: a simulated kiosk against a real server on
//! loopback, over the JSON API, with a real SQLite file. This library is empty on purpose.
