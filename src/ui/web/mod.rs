//! The local web page (`twistcoach serve`): a page readable from the floor, spoken cues,
//! the history plots, and a phone page that streams its orientation.
//!
//! It owns HTTP/WebSocket serving, the access token and the page's assets (embedded:
//! no framework, no CDN, nothing leaves the machine). It must not analyse anything: a
//! session driver ([`driver`]) publishes [`view::View`] snapshots and [`view::WebEvent`]s
//! into a [`view::Hub`], and the server pushes them as JSON; the page only renders them.

pub mod driver;
pub mod phone;
pub mod server;
pub mod token;
pub mod view;
