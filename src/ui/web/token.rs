//! The access token of `serve --lan`: 128 random bits from the OS (getrandom), checked
//! on every request (query `?token=`, or the cookie the first authorised page load sets).

/// The cookie that carries the token after the first authorised request.
pub const COOKIE_NAME: &str = "twistcoach_token";

/// A fresh token: 32 lowercase hex digits from the operating system's random source.
pub fn generate() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random source for the access token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Equal strings, in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of `name` in a URL query (`a=1&token=abc`), undecoded (tokens are hex).
pub fn query_value<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then_some(v)
    })
}

/// The value of cookie `name` in a `Cookie:` header.
pub fn cookie_value<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// Where a request's token came from, if it is the right one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granted {
    Query,
    Cookie,
}

/// Check a request's query and cookie header against the token.
pub fn check(token: &str, query: Option<&str>, cookie_header: Option<&str>) -> Option<Granted> {
    if query_value(query, "token").is_some_and(|t| same(t, token)) {
        Some(Granted::Query)
    } else if cookie_value(cookie_header, COOKIE_NAME).is_some_and(|t| same(t, token)) {
        Some(Granted::Cookie)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn checks_query_and_cookie() {
        let t = "00ff";
        assert_eq!(check(t, Some("token=00ff"), None), Some(Granted::Query));
        assert_eq!(check(t, Some("x=1&token=00ff"), None), Some(Granted::Query));
        assert_eq!(
            check(t, None, Some("a=b; twistcoach_token=00ff")),
            Some(Granted::Cookie)
        );
        assert_eq!(check(t, Some("token=00fe"), None), None);
        assert_eq!(check(t, Some("token=00ff0"), None), None);
        assert_eq!(check(t, Some("token="), None), None);
        assert_eq!(check(t, None, Some("twistcoach_token=0")), None);
        assert_eq!(check(t, None, None), None);
    }
}
