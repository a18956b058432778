//! `twistcoach serve [--lan] [--port N] [--db FILE] [--variation V] ...` (spec §6): the
//! local web page. Binds 127.0.0.1 (or 0.0.0.0 with --lan and a random token), prints
//! the URL on stdout, then serves until Ctrl-C.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

use crate::body::{Placement, Variation};
use crate::cli::ServeArgs;
use crate::device::DeviceKind;
use crate::error::{BadInput, Error, Problem, Result};
use crate::record::read_file;
use crate::session::protocol::Caution;
use crate::source::phone::PhoneBus;
use crate::source::sim::parse_outage;
use crate::source::{DeviceSpec, parse_sensor_spec};
use crate::ui::web::driver::{self, DriverSettings, SessionSource};
use crate::ui::web::server::{App, router};
use crate::ui::web::token;
use crate::ui::web::view::Hub;

fn bad_arg(what: &str, msg: String) -> Error {
    BadInput::file(what, Problem::Other(msg)).into()
}

/// This machine's address on the local network: the source address the OS would use to
/// reach a (documentation-range) address. A UDP `connect` sends nothing.
fn lan_ip() -> Option<IpAddr> {
    let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    s.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}

/// Simulated sensors: placement and kind, in command-line order.
type SimSensors = Vec<(Placement, DeviceKind)>;

/// The default simulated sensors: chest and pelvis `sim:open-imu` (pelvis first lying
/// supine).
fn default_sim_sensors(variation: Variation) -> SimSensors {
    let both = [Placement::Chest, Placement::Pelvis];
    let order = if variation == Variation::Supine {
        [both[1], both[0]]
    } else {
        both
    };
    order.iter().map(|p| (*p, DeviceKind::OpenImu)).collect()
}

/// The sensors of `--sensor`: simulated (`sim:KIND`) or phones (`phone`), not mixed.
/// `Ok((sim, phones))` with exactly one of them non-empty, or both empty for no `--sensor`.
fn sensors_of(args: &[String]) -> Result<(SimSensors, Vec<Placement>)> {
    let mut sims: SimSensors = Vec::new();
    let mut phones: Vec<Placement> = Vec::new();
    for a in args {
        let spec = parse_sensor_spec(a).map_err(|e| bad_arg("--sensor", e))?;
        if sims.iter().any(|(p, _)| *p == spec.placement) || phones.contains(&spec.placement) {
            return Err(bad_arg(
                "--sensor",
                format!("placement `{}` is given twice", spec.placement.name()),
            ));
        }
        match spec.device {
            DeviceSpec::Sim(kind) => sims.push((spec.placement, kind)),
            DeviceSpec::Phone => phones.push(spec.placement),
            _ => {
                return Err(bad_arg(
                    "--sensor",
                    format!(
                        "`{a}`: serve takes simulated sensors (sim:KIND), phones (PLACEMENT=phone) or --replay; for Bluetooth sensors use `twistcoach live`"
                    ),
                ));
            }
        }
    }
    if !sims.is_empty() && !phones.is_empty() {
        return Err(bad_arg(
            "--sensor",
            "simulated sensors and phones cannot be mixed in one session".into(),
        ));
    }
    Ok((sims, phones))
}

/// A self-signed certificate for these names: (certificate PEM, key PEM, SHA-256
/// fingerprint of the certificate as colon-separated hex).
pub fn self_signed(names: Vec<String>) -> std::result::Result<(String, String, String), String> {
    use sha2::{Digest, Sha256};
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| format!("cannot make a certificate: {e}"))?;
    let digest = Sha256::digest(ck.cert.der().as_ref());
    let fp = digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
    Ok((ck.cert.pem(), ck.signing_key.serialize_pem(), fp))
}

/// The QR code of `text` drawn with half-block characters (two modules per line).
pub fn qr_text(text: &str) -> std::result::Result<String, String> {
    use qrcode::QrCode;
    use qrcode::render::unicode::Dense1x2;
    let code = QrCode::new(text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .build())
}

pub fn run(args: &ServeArgs) -> Result<()> {
    let caution = match args.caution.as_deref() {
        None => None,
        Some(c) => Some(Caution::parse(c).ok_or_else(|| {
            bad_arg(
                "--caution",
                format!("unknown caution profile `{c}` (disc-herniation, spondylolisthesis, severe-osteoarthritis, pregnancy)"),
            )
        })?),
    };
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(bad_arg("--speed", "the speed must be a positive number".into()));
    }
    let (sims, phones) = sensors_of(&args.sensors)?;
    let sim = SessionSource::Sim {
        sensors: if sims.is_empty() {
            default_sim_sensors(args.variation)
        } else {
            sims
        },
        seed: args.sim_seed,
        reps: args.sim_reps,
        outages: args
            .sim_disconnects
            .iter()
            .map(|o| parse_outage(o).map_err(|e| bad_arg("--sim-disconnect", e)))
            .collect::<Result<_>>()?,
    };
    let source = match &args.replay {
        Some(path) => SessionSource::Replay {
            path: path.clone(),
            recording: read_file(path)?,
        },
        None if !phones.is_empty() => SessionSource::Phone { placements: phones },
        None => sim.clone(),
    };
    let variation = match &source {
        SessionSource::Replay { recording, path } => {
            recording
                .metadata()
                .ok_or_else(|| bad_arg(&path.display().to_string(), "the recording has no metadata".into()))?
                .variation
        }
        SessionSource::Sim { .. } | SessionSource::Phone { .. } => args.variation,
    };
    let db = match &args.db {
        Some(p) => Some(p.clone()),
        None => crate::history::default_db_path(),
    };
    let token = if args.lan {
        Some(token::generate().map_err(Error::Failed)?)
    } else {
        None
    };
    let phone_bus = PhoneBus::default();
    let settings = DriverSettings {
        variation,
        caution,
        source,
        speed: args.speed,
        autostart: args.autostart,
        phones: phone_bus.clone(),
        sim,
        record_dir: args.record_dir.clone(),
        history_db: if args.no_save { None } else { db.clone() },
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async move {
        let ip = if args.lan { IpAddr::V4(Ipv4Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::LOCALHOST) };
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, args.port))
            .await
            .map_err(|e| Error::Failed(format!("cannot listen on {ip}:{}: {e} (choose another --port)", args.port)))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::Failed(format!("no local address: {e}")))?
            .port();
        let scheme = if args.tls { "https" } else { "http" };
        let query = token.as_deref().map(|t| format!("?token={t}")).unwrap_or_default();
        let mut out = std::io::stdout().lock();
        let mut lines = vec![format!("{scheme}://127.0.0.1:{port}/{query}")];
        let lan = if args.lan { lan_ip() } else { None };
        let mut qr_url = None;
        if args.lan {
            match lan {
                Some(lan) => {
                    lines.push(format!("{scheme}://{lan}:{port}/{query}"));
                    lines.push(format!("{scheme}://{lan}:{port}/phone{query}"));
                    qr_url = Some(format!("{scheme}://{lan}:{port}/{query}"));
                }
                None => eprintln!(
                    "serve: no local network address found; use this machine's address with port {port} and the token above"
                ),
            }
        }
        for l in &lines {
            let _ = writeln!(out, "{l}");
        }
        let _ = out.flush();
        drop(out);
        if args.lan {
            eprintln!(
                "serve: listening on the local network; every request needs the token. The first URL is this machine's, \
                 the second for another screen, the third the phone-as-sensor page (see docs/web.md)."
            );
            if let (Some(url), false) = (&qr_url, args.no_qr) {
                match qr_text(url) {
                    Ok(q) => eprintln!("{q}"),
                    Err(e) => eprintln!("serve: no QR code ({e})"),
                }
            }
        } else {
            eprintln!("serve: open the URL above in a browser on this machine; Ctrl-C to stop.");
        }

        let (hub, control) = Hub::new(driver::idle_view(&settings));
        let app = App::with_phones(hub.clone(), token, db, args.tls, phone_bus);
        tokio::spawn(driver::run(hub, control, settings));
        if !args.tls {
            return axum::serve(listener, router(app))
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
                .map_err(|e| Error::Failed(format!("the web server stopped: {e}")));
        }
        let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        names.extend(lan.map(|ip| ip.to_string()));
        let (cert, key, fingerprint) = self_signed(names).map_err(Error::Failed)?;
        eprintln!(
            "serve: https with a self-signed certificate made now; the browser warns once: check that it shows \
             this SHA-256 fingerprint, then accept it:\n  {fingerprint}"
        );
        let config = axum_server::tls_rustls::RustlsConfig::from_pem(cert.into_bytes(), key.into_bytes())
            .await
            .map_err(|e| Error::Failed(format!("TLS set-up failed: {e}")))?;
        let std_listener = listener
            .into_std()
            .map_err(|e| Error::Failed(format!("TLS listener: {e}")))?;
        let handle = axum_server::Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            stopper.graceful_shutdown(Some(std::time::Duration::from_secs(1)));
        });
        axum_server::from_tcp_rustls(std_listener, config)
            .map_err(|e| Error::Failed(format!("TLS listener: {e}")))?
            .handle(handle)
            .serve(router(app).into_make_service())
            .await
            .map_err(|e| Error::Failed(format!("the web server stopped: {e}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_certificate() {
        let (cert, key, fp) = self_signed(vec!["localhost".into(), "192.168.1.2".into()]).unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(key.contains("PRIVATE KEY"));
        assert_eq!(fp.split(':').count(), 32);
        let (_, _, fp2) = self_signed(vec!["localhost".into()]).unwrap();
        assert_ne!(fp, fp2, "a new key each time");
    }

    #[test]
    fn qr_code_renders() {
        let q = qr_text("http://192.168.1.2:8765/?token=0123456789abcdef0123456789abcdef").unwrap();
        assert!(q.lines().count() > 10);
    }
}
