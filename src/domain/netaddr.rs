//! Which network addresses a team server may send webhooks to: the public
//! internet only. Every special-purpose block of the IANA IPv4 and IPv6
//! registries is refused, IPv6 that is not global unicast is refused, and
//! the IPv6 forms that carry an IPv4 address to a gateway (NAT64, 6to4,
//! Teredo, IPv4-compatible) are refused outright: through them a tenant
//! could reach the server's own network by another name.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether a receiver at `ip` is on the public internet.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// `(network, prefix length)` blocks of IPv4 that are not the internet.
const V4_REFUSED: &[([u8; 4], u8)] = &[
    ([0, 0, 0, 0], 8),       // "this network"
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // shared address space (carrier-grade NAT)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local (cloud metadata at .169.254)
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast (deprecated)
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, and the broadcast address
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let addr = u32::from(ip);
    !V4_REFUSED.iter().any(|&(net, len)| {
        let mask = u32::MAX << (32 - u32::from(len));
        addr & mask == u32::from(Ipv4Addr::from(net)) & mask
    })
}

/// `(network, prefix length)` blocks inside global unicast (`2000::/3`)
/// that are not the internet, or hand packets to an IPv4 gateway.
const V6_REFUSED: &[([u16; 8], u8)] = &[
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), // IETF protocol assignments, Teredo (2001::/32)
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
    ([0x2002, 0, 0, 0, 0, 0, 0, 0], 16), // 6to4
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation
    ([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), // segment routing (SRv6) SIDs
];

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // `::ffff:a.b.c.d` is the IPv4 address itself on a dual-stack socket.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let addr = u128::from(ip);
    // Only global unicast is the internet: this leaves out `::`, `::1`,
    // IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`,
    // discard `100::/64`, unique-local `fc00::/7`, link-local `fe80::/10`,
    // and multicast `ff00::/8`.
    let global_unicast = addr >> 125 == 0b001;
    global_unicast
        && !V6_REFUSED.iter().any(|&(net, len)| {
            let mask = u128::MAX << (128 - u32::from(len));
            addr & mask == u128::from(Ipv6Addr::from(net)) & mask
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per address form: the address, and why it is (not) refused.
    const TABLE: &[(&str, bool, &str)] = &[
        // IPv4
        ("8.8.8.8", true, "public IPv4"),
        ("1.1.1.1", true, "public IPv4"),
        ("0.0.0.0", false, "unspecified"),
        ("0.1.2.3", false, "this network 0/8"),
        ("10.1.2.3", false, "private 10/8"),
        ("172.16.0.1", false, "private 172.16/12"),
        ("172.31.255.255", false, "private 172.16/12, last"),
        ("172.32.0.1", true, "just past 172.16/12"),
        ("192.168.0.10", false, "private 192.168/16"),
        ("100.64.0.1", false, "shared 100.64/10"),
        ("100.127.255.254", false, "shared 100.64/10, last"),
        ("100.128.0.1", true, "just past 100.64/10"),
        ("127.0.0.1", false, "loopback"),
        ("127.255.255.254", false, "loopback 127/8"),
        ("169.254.169.254", false, "link-local (cloud metadata)"),
        ("192.0.0.8", false, "IETF protocol assignments 192.0.0/24"),
        ("192.0.2.1", false, "documentation 192.0.2/24"),
        ("198.51.100.7", false, "documentation 198.51.100/24"),
        ("203.0.113.9", false, "documentation 203.0.113/24"),
        ("192.88.99.1", false, "6to4 relay anycast"),
        ("198.18.0.1", false, "benchmarking 198.18/15"),
        ("198.19.255.255", false, "benchmarking 198.18/15, last"),
        ("198.20.0.1", true, "just past 198.18/15"),
        ("224.0.0.1", false, "multicast"),
        ("239.255.255.250", false, "multicast (SSDP)"),
        ("240.0.0.1", false, "reserved 240/4"),
        ("255.255.255.255", false, "broadcast"),
        // IPv6
        ("2606:4700::1111", true, "public IPv6"),
        ("2a00:1450:4001::200e", true, "public IPv6"),
        ("::", false, "unspecified"),
        ("::1", false, "loopback"),
        ("::ffff:127.0.0.1", false, "IPv4-mapped loopback"),
        ("::ffff:10.0.0.1", false, "IPv4-mapped private"),
        ("::ffff:169.254.169.254", false, "IPv4-mapped link-local"),
        (
            "::ffff:8.8.8.8",
            true,
            "IPv4-mapped public: the public address itself",
        ),
        ("::127.0.0.1", false, "IPv4-compatible loopback"),
        (
            "::8.8.8.8",
            false,
            "IPv4-compatible (deprecated, never the internet)",
        ),
        ("64:ff9b::7f00:1", false, "NAT64 of 127.0.0.1"),
        (
            "64:ff9b::808:808",
            false,
            "NAT64 of a public address (a gateway)",
        ),
        ("64:ff9b:1::a00:1", false, "local-use NAT64 64:ff9b:1::/48"),
        ("100::1", false, "discard-only 100::/64"),
        ("2001::1", false, "Teredo 2001::/32"),
        (
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            false,
            "Teredo with embedded IPv4",
        ),
        ("2001:2::1", false, "benchmarking 2001:2::/48"),
        ("2001:db8::1", false, "documentation 2001:db8::/32"),
        (
            "2001:db8:ffff::1",
            false,
            "documentation 2001:db8::/32, high",
        ),
        ("2002:7f00:1::1", false, "6to4 of 127.0.0.1"),
        (
            "2002:808:808::1",
            false,
            "6to4 of a public address (a relay)",
        ),
        ("3fff::1", false, "documentation 3fff::/20"),
        ("5f00::1", false, "SRv6 SIDs"),
        ("fc00::1", false, "unique-local fc00::/7"),
        ("fd12:3456::1", false, "unique-local fd00::/8"),
        ("fe80::1", false, "link-local"),
        ("febf::1", false, "link-local fe80::/10, last"),
        ("fec0::1", false, "site-local (deprecated)"),
        ("ff02::1", false, "multicast link-local all-nodes"),
        ("ff0e::1", false, "multicast global"),
    ];

    #[test]
    fn every_special_purpose_form_is_refused_and_the_internet_is_not() {
        for (addr, public, form) in TABLE {
            let ip: IpAddr = addr.parse().unwrap_or_else(|e| panic!("{addr}: {e}"));
            assert_eq!(is_public_ip(ip), *public, "{addr} ({form})");
        }
    }
}
