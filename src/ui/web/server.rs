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
use axum::routing::{get, post};
use tokio::sync::{Mutex, broadcast, watch};

use super::phone::{PhoneOrientation, PhoneStatus, PhoneTracker, q_world_from_phone};
use super::token;
use super::view::{Control, Hub, message_json};
use crate::body::Placement;
use crate::device::phone::Origin;
use crate::device::sensor_logger;
use crate::source::phone::{PhoneBus, PhoneData, PhoneMessage};

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
    /// Served over https: the access cookie gets the `Secure` attribute.
    pub tls: bool,
    /// Every phone reading (page or Sensor Logger), for a session with phone sensors.
    pub phones: PhoneBus,
    pub phone: watch::Sender<Option<PhoneStatus>>,
    phone_tracker: Mutex<PhoneTracker>,
}

impl App {
    pub fn new(hub: Hub, token: Option<String>, db: Option<PathBuf>) -> Arc<App> {
        App::with_phones(hub, token, db, false, PhoneBus::default())
    }

    /// An app whose phone readings go to `phones` (the session driver listens to it).
    pub fn with_phones(hub: Hub, token: Option<String>, db: Option<PathBuf>, tls: bool, phones: PhoneBus) -> Arc<App> {
        Arc::new(App {
            hub,
            token,
            db,
            tls,
            phones,
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
        .route("/sensorlogger", post(sensor_logger_push))
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
            if let Ok(v) = HeaderValue::from_str(&access_cookie(tok, app.tls)) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
    }
}

/// A WebSocket opened by a page served from another origin is refused.
/// The access cookie: never readable by scripts, never sent by other sites, and under
/// `--tls` never sent over plain http.
pub fn access_cookie(token: &str, tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict{secure}",
        token::COOKIE_NAME
    )
}

/// The placement a phone stream is for (`?placement=`, default chest).
fn placement_of(query: Option<&str>) -> Result<Placement, String> {
    match token::query_value(query, "placement") {
        None => Ok(Placement::Chest),
        Some(p) => Placement::parse(p)
            .ok_or_else(|| format!("unknown placement `{p}` in the URL; expected chest, pelvis, upper-back or sacrum")),
    }
}

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

async fn phone_ws(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    ws: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "twistcoach: WebSocket from another origin refused\n",
        )
            .into_response();
    }
    let placement = match placement_of(uri.query()) {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("twistcoach: {e}\n")).into_response(),
    };
    ws.on_upgrade(move |socket| phone_socket(socket, app, placement))
}

async fn phone_socket(mut socket: WebSocket, app: Arc<App>, placement: Placement) {
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
                let arrived = std::time::Instant::now();
                let mut tr = app.phone_tracker.lock().await;
                let r = tr.update(&o);
                app.phone.send_replace(Some(tr.status().clone()));
                if r.is_ok() {
                    app.phones.publish(PhoneMessage {
                        placement,
                        arrived,
                        data: PhoneData::Reading {
                            origin: Origin::Page,
                            phone_time_s: o.t_ms / 1000.0,
                            q_world_from_sensor: q_world_from_phone(o.alpha_deg, o.beta_deg, o.gamma_deg),
                        },
                    });
                }
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
    app.phones.publish(PhoneMessage {
        placement,
        arrived: std::time::Instant::now(),
        data: PhoneData::Closed {
            reason: "the phone's page closed its connection (screen locked or page reloaded)".into(),
        },
    });
    let mut t = app.phone_tracker.lock().await;
    t.set_connected(false);
    app.phone.send_replace(Some(t.status().clone()));
}

/// `POST /sensorlogger?placement=chest` (token in the URL under `--lan`): one HTTP push
/// of the Sensor Logger app. 200 with the count of orientation readings taken, or 400
/// saying what is wrong with the body.
async fn sensor_logger_push(State(app): State<Arc<App>>, uri: axum::http::Uri, body: axum::body::Bytes) -> Response {
    let arrived = std::time::Instant::now();
    let text = |code: StatusCode, msg: String| {
        (
            code,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{msg}\n"),
        )
            .into_response()
    };
    let placement = match placement_of(uri.query()) {
        Ok(p) => p,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("twistcoach: {e}")),
    };
    let batch = match sensor_logger::parse(&body) {
        Ok(b) => b,
        Err(e) => {
            let mut tr = app.phone_tracker.lock().await;
            tr.refuse();
            app.phone.send_replace(Some(tr.status().clone()));
            return text(StatusCode::BAD_REQUEST, format!("twistcoach: {e}"));
        }
    };
    {
        let mut tr = app.phone_tracker.lock().await;
        tr.set_connected(true);
        for r in &batch.orientation {
            tr.update_q(r.time_s * 1000.0, r.q_world_from_sensor, true);
        }
        app.phone.send_replace(Some(tr.status().clone()));
    }
    for r in &batch.orientation {
        app.phones.publish(PhoneMessage {
            placement,
            arrived,
            data: PhoneData::Reading {
                origin: Origin::SensorLogger,
                phone_time_s: r.time_s,
                q_world_from_sensor: r.q_world_from_sensor,
            },
        });
    }
    text(
        StatusCode::OK,
        format!(
            "ok: {} orientation readings for {}, {} other entries ignored",
            batch.orientation.len(),
            placement.name(),
            batch.ignored
        ),
    )
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
    fn the_access_cookie_is_secure_under_tls() {
        let plain = access_cookie("ab", false);
        assert_eq!(plain, "twistcoach_token=ab; Path=/; HttpOnly; SameSite=Strict");
        let tls = access_cookie("ab", true);
        assert!(tls.starts_with(&plain) && tls.ends_with("; Secure"), "{tls}");
    }

    #[test]
    fn phone_placement_from_the_url() {
        assert_eq!(placement_of(None), Ok(Placement::Chest));
        assert_eq!(placement_of(Some("token=1&placement=pelvis")), Ok(Placement::Pelvis));
        assert!(placement_of(Some("placement=knee")).unwrap_err().contains("knee"));
    }

    #[test]
    fn origin_check() {
        assert!(same_origin(&headers(None, "127.0.0.1:8080")));
        assert!(same_origin(&headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080")));
        assert!(!same_origin(&headers(Some("http://evil.example"), "127.0.0.1:8080")));
        assert!(!same_origin(&headers(Some("http://127.0.0.1:9999"), "127.0.0.1:8080")));
    }
}
