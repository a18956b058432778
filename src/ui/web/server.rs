//! HTTP and WebSocket serving of the page (axum). Every route, assets included, goes
//! through the token check when a token is set (`serve --lan`); WebSockets also refuse a
//! foreign `Origin` (another web site's script cannot drive the session).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::{Mutex, broadcast, watch};

use super::phone::{PhoneOrientation, PhoneStatus, PhoneTracker};
use super::token;
use super::view::{Control, Hub, message_json};

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");
const PHONE_HTML: &str = include_str!("assets/phone.html");
const PHONE_JS: &str = include_str!("assets/phone.js");

/// Everything the handlers share.
pub struct App {
    pub hub: Hub,
    /// Required on every request when set.
    pub token: Option<String>,
    /// The history database for `/plot.svg`.
    pub db: Option<PathBuf>,
    pub phone: watch::Sender<Option<PhoneStatus>>,
    phone_tracker: Mutex<PhoneTracker>,
}

impl App {
    pub fn new(hub: Hub, token: Option<String>, db: Option<PathBuf>) -> Arc<App> {
        Arc::new(App {
            hub,
            token,
            db,
            phone: watch::channel(None).0,
            phone_tracker: Mutex::new(PhoneTracker::default()),
        })
    }
}

/// The page's routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }))
        .route(
            "/app.js",
            get(|| async { asset(APP_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/style.css",
            get(|| async { asset(STYLE_CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/phone",
            get(|| async { asset(PHONE_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/phone.js",
            get(|| async { asset(PHONE_JS, "text/javascript; charset=utf-8") }),
        )
        .route("/plot.svg", get(plot_svg))
        .route("/ws", get(session_ws))
        .route("/ws/phone", get(phone_ws))
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// The token check: 401 without the right token; the first authorised request by query
/// sets a cookie so the page's own assets and WebSockets pass.
async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let Some(tok) = app.token.as_deref() else {
        return next.run(req).await;
    };
    let cookie = req.headers().get(header::COOKIE).and_then(|v| v.to_str().ok());
    match token::check(tok, req.uri().query(), cookie) {
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "twistcoach: this page needs its access token. Open the full URL that `twistcoach serve --lan` printed (it ends in ?token=...).\n",
        )
            .into_response(),
        Some(token::Granted::Cookie) => next.run(req).await,
        Some(token::Granted::Query) => {
            let mut resp = next.run(req).await;
            let c = format!("{}={tok}; Path=/; HttpOnly; SameSite=Strict", token::COOKIE_NAME);
            if let Ok(v) = HeaderValue::from_str(&c) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
    }
}

/// A WebSocket opened by a page served from another origin is refused.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true; // not a browser page (a script or a test client)
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

async fn session_ws(State(app): State<Arc<App>>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    if !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "twistcoach: WebSocket from another origin refused\n",
        )
            .into_response();
    }
    ws.on_upgrade(move |socket| session_socket(socket, app))
}

fn view_text(app: &App) -> String {
    let mut v = app.hub.view.borrow().clone();
    v.phone = app.phone.borrow().clone();
    message_json("view", &v)
}

async fn session_socket(mut socket: WebSocket, app: Arc<App>) {
    let mut view_rx = app.hub.view.subscribe();
    let mut phone_rx = app.phone.subscribe();
    let mut events = app.hub.events.subscribe();
    if socket.send(Message::Text(view_text(&app).into())).await.is_err() {
        return;
    }
    loop {
        let out = tokio::select! {
            r = view_rx.changed() => match r {
                Ok(()) => view_text(&app),
                Err(_) => return,
            },
            r = phone_rx.changed() => match r {
                Ok(()) => view_text(&app),
                Err(_) => return,
            },
            e = events.recv() => match e {
                Ok(e) => message_json("event", &e),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            m = socket.recv() => match m {
                Some(Ok(Message::Text(t))) => {
                    match serde_json::from_str::<Control>(t.as_str()) {
                        Ok(c) => { let _ = app.hub.control.send(c).await; }
                        Err(e) => {
                            let msg = message_json("error", &format!("not understood: {e}"));
                            if socket.send(Message::Text(msg.into())).await.is_err() { return; }
                        }
                    }
                    continue;
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
        };
        if socket.send(Message::Text(out.into())).await.is_err() {
            return;
        }
    }
}

async fn phone_ws(State(app): State<Arc<App>>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    if !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "twistcoach: WebSocket from another origin refused\n",
        )
            .into_response();
    }
    ws.on_upgrade(move |socket| phone_socket(socket, app))
}

async fn phone_socket(mut socket: WebSocket, app: Arc<App>) {
    {
        let mut t = app.phone_tracker.lock().await;
        t.set_connected(true);
        app.phone.send_replace(Some(t.status().clone()));
    }
    while let Some(Ok(m)) = socket.recv().await {
        let Message::Text(t) = m else {
            if matches!(m, Message::Close(_)) {
                break;
            }
            continue;
        };
        let reply = match serde_json::from_str::<PhoneOrientation>(t.as_str()) {
            Ok(o) => {
                let mut tr = app.phone_tracker.lock().await;
                let r = tr.update(&o);
                app.phone.send_replace(Some(tr.status().clone()));
                r.err()
            }
            Err(e) => Some(format!("not a reading: {e}")),
        };
        if let Some(r) = reply
            && socket
                .send(Message::Text(message_json("error", &r).into()))
                .await
                .is_err()
        {
            break;
        }
    }
    let mut t = app.phone_tracker.lock().await;
    t.set_connected(false);
    app.phone.send_replace(Some(t.status().clone()));
}

static PLOT_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The history plot (`twistcoach plot`'s SVG) of the database.
async fn plot_svg(State(app): State<Arc<App>>) -> Response {
    let Some(db) = app.db.clone() else {
        return (
            StatusCode::NOT_FOUND,
            "no history database: start `twistcoach serve --db FILE`\n",
        )
            .into_response();
    };
    let r = tokio::task::spawn_blocking(move || history_svg(&db)).await;
    match r {
        Ok(Ok(svg)) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            svg,
        )
            .into_response(),
        Ok(Err((code, msg))) => (code, format!("{msg}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("the plot failed: {e}\n")).into_response(),
    }
}

fn history_svg(db: &std::path::Path) -> Result<String, (StatusCode, String)> {
    use crate::history::{LocalTime, Store};
    use crate::plot::{self, series};
    if !db.exists() {
        return Err((
            StatusCode::NOT_FOUND,
            format!("no history yet ({} does not exist)", db.display()),
        ));
    }
    let fail = |e: String| (StatusCode::INTERNAL_SERVER_ERROR, e);
    let mut store = Store::open(db).map_err(|e| fail(e.to_string()))?;
    let records: Vec<_> = store
        .sessions()
        .map_err(|e| fail(e.to_string()))?
        .into_iter()
        .map(|s| s.record)
        .collect();
    let chosen = series::within_weeks(&records, None, LocalTime::now());
    let progress = series::progress(&chosen, None);
    let n = PLOT_COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("twistcoach-serve-{}-{n}.svg", std::process::id()));
    let r = plot::plot(&progress, &db.display().to_string(), &path)
        .map_err(|e| fail(e.to_string()))
        .and_then(|_| std::fs::read_to_string(&path).map_err(|e| fail(e.to_string())));
    let _ = std::fs::remove_file(&path);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn origin_check() {
        assert!(same_origin(&headers(None, "127.0.0.1:8080")));
        assert!(same_origin(&headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080")));
        assert!(!same_origin(&headers(Some("http://evil.example"), "127.0.0.1:8080")));
        assert!(!same_origin(&headers(Some("http://127.0.0.1:9999"), "127.0.0.1:8080")));
    }
}
