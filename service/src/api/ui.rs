//! The web page `medproof serve` shows at `/`: an auditor's view of a period of the
//! access log, a patient's view (consents granted and revoked, and the access history,
//! signed in the browser with a key that never leaves it), and a verifier that checks a
//! proof bundle in the browser. Its files are embedded in the binary (no CDN, no build
//! step) and served from the API's origin under a Content Security Policy that lets the
//! page load and ask nothing but this origin.
//!
//! The page trusts the server for nothing it shows as verified: it checks checkpoint
//! and genesis signatures with WebCrypto Ed25519 against a ledger key it pins, and the
//! Groth16 proof with a BN254 pairing in JavaScript (`vendor/noble-curves.js`, MIT,
//! rebuilt by `service/ui/vendor/build.sh`).

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::error::ApiError;

type Result<T> = std::result::Result<T, ApiError>;

/// What the page may load and ask: this origin only; no inline script, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; \
     base-uri 'none'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../../ui/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// The page's files, by the name they are served under (`/ui/NAME`).
const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("audit.js", JS),
    asset!("bundle.js", JS),
    asset!("verify.js", JS),
    asset!("patient.js", JS),
    asset!("wallet.js", JS),
    asset!("vendor/noble-curves.js", JS),
    asset!("favicon.svg", "image/svg+xml"),
];

fn respond(asset: &Asset) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        // Revalidated on each load: the page must change with the binary.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(asset.body)
}

fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// `GET /`: the page.
pub async fn index() -> Result<HttpResponse> {
    find("index.html")
        .map(respond)
        .ok_or_else(|| ApiError::not_found("no page"))
}

/// `GET /ui/{name}`: one of the page's files.
pub async fn file(name: web::Path<String>) -> Result<HttpResponse> {
    find(&name)
        .map(respond)
        .ok_or_else(|| ApiError::not_found("no such file of the page"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{test, App};

    fn app() -> App<
        impl actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        App::new()
            .route("/", web::get().to(index))
            .route("/ui/{name:.+}", web::get().to(file))
    }

    #[actix_web::test]
    async fn the_page_and_its_files_are_served_with_a_strict_policy() {
        let app = test::init_service(app()).await;
        for (path, kind) in [
            ("/", "text/html"),
            ("/ui/app.js", "text/javascript"),
            ("/ui/vendor/noble-curves.js", "text/javascript"),
            ("/ui/style.css", "text/css"),
        ] {
            let res =
                test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
            assert_eq!(res.status(), 200, "{path}");
            let h = res.headers();
            let ct = h.get(header::CONTENT_TYPE).unwrap().to_str().unwrap();
            assert!(ct.starts_with(kind), "{path}: {ct}");
            let csp = h.get(header::CONTENT_SECURITY_POLICY).unwrap();
            assert_eq!(csp, CONTENT_SECURITY_POLICY);
            assert_eq!(h.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        }
    }

    #[actix_web::test]
    async fn unknown_files_and_escapes_are_not_found() {
        let app = test::init_service(app()).await;
        for path in [
            "/ui/nope.js",
            "/ui/../Cargo.toml",
            "/ui/%2e%2e/src/lib.rs",
            "/ui/",
        ] {
            let res =
                test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
            assert_eq!(res.status(), 404, "{path}");
        }
    }

    #[::core::prelude::v1::test]
    fn the_page_loads_only_files_it_has() {
        // Every script and stylesheet the page names is one of the embedded files, so
        // a missing one fails here and not in a user's browser.
        let mut named = Vec::new();
        for a in ASSETS
            .iter()
            .filter(|a| a.name.ends_with(".html") || a.name.ends_with(".js"))
        {
            let text = std::str::from_utf8(a.body).unwrap();
            for marker in ["src=\"/ui/", "href=\"/ui/", "from \"./", "from './"] {
                for part in text.split(marker).skip(1) {
                    let end = part.find(['"', '\'']).unwrap();
                    named.push((a.name, part[..end].to_string()));
                }
            }
        }
        assert!(named.len() >= 5, "{named:?}");
        for (from, name) in named {
            assert!(
                find(&name).is_some(),
                "{from} loads {name}, which is not embedded"
            );
        }
    }
}
