//! What a socket descriptor is connected to: local and peer address and TCP state, from
//! the target's own view of its network namespace (`/proc/<pid>/net/tcp`, `tcp6`, `udp`,
//! `udp6`), found by the socket's inode (`socket:[N]` in `/proc/<pid>/fd`).

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::Serialize;

/// One internet socket, as the kernel's table shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InetSocket {
    /// `tcp` or `udp` (IPv4 and IPv6 alike).
    pub protocol: &'static str,
    /// The local address, `127.0.0.1:40000` (IPv4-mapped IPv6 addresses shown as IPv4).
    pub local: String,
    /// The peer address; `None` for a listening or unconnected socket.
    pub peer: Option<String>,
    /// TCP state (`ESTABLISHED`, `LISTEN`, `CLOSE_WAIT`, …); UDP shows `UNCONNECTED` or
    /// `ESTABLISHED` (connected).
    pub state: &'static str,
    /// Bytes received but not yet read by the application.
    pub rx_queue: u64,
    /// Bytes sent but not yet acknowledged (TCP) or not yet sent (UDP).
    pub tx_queue: u64,
}

/// The inode of a `socket:[N]` link target.
pub fn socket_inode(target: &str) -> Option<u64> {
    target
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Looks the socket with `inode` up in `pid`'s network namespace (its own `/proc/<pid>/net`
/// view, so a JVM in a container is read as it sees its sockets).
pub fn lookup(pid: u32, inode: u64) -> Option<InetSocket> {
    ["tcp", "tcp6", "udp", "udp6"].iter().find_map(|table| {
        let text = fs::read_to_string(format!("/proc/{pid}/net/{table}")).ok()?;
        let protocol = if table.starts_with("tcp") {
            "tcp"
        } else {
            "udp"
        };
        find_in_table(&text, protocol, inode)
    })
}

/// Finds `inode` in the text of one `/proc/net/{tcp,tcp6,udp,udp6}` table.
pub fn find_in_table(text: &str, protocol: &'static str, inode: u64) -> Option<InetSocket> {
    text.lines().skip(1).find_map(|line| {
        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(9)?.parse::<u64>().ok()? != inode {
            return None;
        }
        let local = parse_address(f.get(1)?)?;
        let peer = parse_address(f.get(2)?)?;
        let code = u8::from_str_radix(f.get(3)?, 16).ok()?;
        let (tx, rx) = f.get(4)?.split_once(':')?;
        let state = if protocol == "tcp" {
            tcp_state(code)
        } else if peer.port() == 0 {
            "UNCONNECTED"
        } else {
            "ESTABLISHED"
        };
        Some(InetSocket {
            protocol,
            local: local.to_string(),
            peer: (peer.port() != 0 || !peer.ip().is_unspecified()).then(|| peer.to_string()),
            state,
            rx_queue: u64::from_str_radix(rx, 16).unwrap_or(0),
            tx_queue: u64::from_str_radix(tx, 16).unwrap_or(0),
        })
    })
}

/// `0100007F:B527` (IPv4) or 32 hex digits + port (IPv6): each 32-bit word is printed in
/// host byte order. IPv4-mapped IPv6 (`::ffff:127.0.0.1`, what Java's dual-stack sockets
/// use) becomes plain IPv4.
fn parse_address(field: &str) -> Option<SocketAddr> {
    let (addr, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let hex = addr.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
    };
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            let v6 = Ipv6Addr::from(bytes);
            match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            }
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// The kernel's TCP state numbers (include/net/tcp_states.h).
fn tcp_state(code: u8) -> &'static str {
    match code {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        12 => "NEW_SYN_RECV",
        _ => "UNKNOWN",
    }
}

impl InetSocket {
    /// `TCP 127.0.0.1:40000 -> 127.0.0.1:5432, ESTABLISHED`.
    pub fn display(&self) -> String {
        let mut s = format!("{} {}", self.protocol.to_uppercase(), self.local);
        if let Some(peer) = &self.peer {
            s.push_str(&format!(" -> {peer}"));
        }
        s.push_str(&format!(", {}", self.state));
        if self.rx_queue > 0 {
            s.push_str(&format!(", {} bytes received and not read", self.rx_queue));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:B527 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 725208 1 0000000054a19a36 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:D842 0000000000000000FFFF00000100007F:B527 01 00000000:00000010 00:00000000 00000000     0        0 725209 1 000000004a3e78ce 20 0 0 10 -1
   2: 00000000000000000000000001000000:0016 00000000000000000000000001000000:9C40 08 00000000:00000000 00:00000000 00000000     0        0 7 1 0 20 0 0 10 -1
";

    #[test]
    fn decodes_v4_mapped_and_v6_entries() {
        let s = find_in_table(TCP6, "tcp", 725209).unwrap();
        assert_eq!(s.local, "127.0.0.1:55362");
        assert_eq!(s.peer.as_deref(), Some("127.0.0.1:46375"));
        assert_eq!(s.state, "ESTABLISHED");
        assert_eq!(s.rx_queue, 16);
        assert_eq!(
            s.display(),
            "TCP 127.0.0.1:55362 -> 127.0.0.1:46375, ESTABLISHED, 16 bytes received and not read"
        );
        let listen = find_in_table(TCP6, "tcp", 725208).unwrap();
        assert_eq!((listen.state, listen.peer), ("LISTEN", None));
        let v6 = find_in_table(TCP6, "tcp", 7).unwrap();
        assert_eq!(v6.local, "[::1]:22");
        assert_eq!(v6.state, "CLOSE_WAIT");
        assert!(find_in_table(TCP6, "tcp", 1).is_none());
        assert_eq!(socket_inode("socket:[725209]"), Some(725209));
        assert_eq!(socket_inode("pipe:[1]"), None);
    }

    #[test]
    fn finds_a_real_connection_of_this_process() {
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(server.local_addr().unwrap()).unwrap();
        let link = fs::read_link(format!("/proc/self/fd/{}", client.as_raw_fd())).unwrap();
        let inode = socket_inode(link.to_str().unwrap()).unwrap();
        let s = lookup(std::process::id(), inode).unwrap();
        assert_eq!(s.protocol, "tcp");
        assert_eq!(s.state, "ESTABLISHED");
        assert_eq!(s.local, client.local_addr().unwrap().to_string());
        assert_eq!(s.peer, Some(server.local_addr().unwrap().to_string()));
    }
}
