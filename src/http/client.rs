//! The client's network address, for sign-in limits and the audit log.
//!
//! The peer address is the client's, unless the peer is one of the reverse
//! proxies the operator trusts (`PULANG_TRUSTED_PROXIES`, none by default).
//! Then `X-Forwarded-For` is read from the right — each trusted proxy appends
//! the address it received from — and the first address that is not a
//! trusted proxy is the client. A header from an untrusted peer is ignored,
//! so no client can claim another's address to dodge or aim a sign-in limit.

use std::net::IpAddr;

use actix_web::HttpRequest;

/// The client's address as the rule above reads it.
pub fn client_addr(req: &HttpRequest, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    Some(from_chain(peer, &forwarded, trusted))
}

/// The client of a request from `peer` that carried `forwarded` (the
/// `X-Forwarded-For` entries, left to right).
pub fn from_chain(peer: IpAddr, forwarded: &[&str], trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded.iter().rev() {
        match entry.trim().parse::<IpAddr>() {
            Ok(address) => {
                client = address;
                if !trusted.contains(&address) {
                    return address;
                }
            }
            // A malformed entry ends what can be believed: the last proxy's word.
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        assert_eq!(
            from_chain(ip("203.0.113.9"), &["10.0.0.1"], &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_address_is_the_client() {
        let proxy = ip("10.0.0.2");
        assert_eq!(
            from_chain(proxy, &["198.51.100.7", " 203.0.113.5"], &[proxy]),
            ip("203.0.113.5"),
            "the client cannot choose its address by sending a header of its own"
        );
        assert_eq!(
            from_chain(
                proxy,
                &["203.0.113.5", "10.0.0.3"],
                &[proxy, ip("10.0.0.3")]
            ),
            ip("203.0.113.5")
        );
        assert_eq!(from_chain(proxy, &["not-an-ip"], &[proxy]), proxy);
        assert_eq!(from_chain(proxy, &[], &[proxy]), proxy);
    }
}
