//! The NATS text protocol as confab speaks it: server URLs, the CONNECT line, the INFO fields
//! read, and parsing what the server sends, split across reads or not. No I/O here.

use bytes::{Buf, Bytes, BytesMut};

const DEFAULT_PORT: u16 = 4222;

/// Longest control line accepted (INFO lists cluster URLs, so it can be long).
const MAX_CONTROL_LINE: usize = 1024 * 1024;

/// Largest message accepted from the server (NATS itself caps max_payload at 64 MiB).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Whitespace or control bytes in a subject would break (or inject into) the text protocol.
pub(super) fn valid_subject(subject: &str) -> bool {
    !subject.is_empty()
        && !subject
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
}

// ---- servers and URLs -------------------------------------------------------------------

pub(super) struct Server {
    /// `host:port`, as given to the resolver.
    pub(super) addr: String,
    /// `nats://host:port` without credentials, for messages and logs.
    pub(super) shown: String,
    auth: Auth,
}

/// How the client proves itself to the server.
enum Auth {
    None,
    Token(String),
    User { user: String, pass: String },
}

pub(super) fn parse_urls(list: &str) -> Result<Vec<Server>, String> {
    let servers = list
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(parse_url)
        .collect::<Result<Vec<_>, _>>()?;
    if servers.is_empty() {
        return Err("no NATS URL given (expected nats://host:port)".into());
    }
    Ok(servers)
}

/// Parses one URL; error messages never repeat the credentials part.
fn parse_url(url: &str) -> Result<Server, String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("a NATS URL must look like nats://host:port".into());
    };
    if scheme.eq_ignore_ascii_case("tls") {
        return Err(
            "tls:// NATS URLs are not supported: confab's NATS client does not speak \
                    TLS; use nats:// on a private network"
                .into(),
        );
    }
    if !scheme.eq_ignore_ascii_case("nats") {
        return Err(format!(
            "unsupported NATS URL scheme {scheme}://; use nats://host:port"
        ));
    }
    let (auth, hostport) = match rest.rsplit_once('@') {
        Some((creds, hostport)) => (parse_credentials(creds), hostport),
        None => (Auth::None, rest),
    };
    let hostport = hostport.split('/').next().unwrap_or_default();
    let (host, port) = match hostport.strip_prefix('[') {
        Some(inner) => match inner.split_once(']') {
            Some((ip, tail)) => (&hostport[..ip.len() + 2], tail),
            None => return Err(format!("unclosed [ in NATS URL nats://{hostport}")),
        },
        None => match hostport.find(':') {
            Some(at) => hostport.split_at(at),
            None => (hostport, ""),
        },
    };
    let port = match port {
        "" => DEFAULT_PORT,
        port => port
            .strip_prefix(':')
            .and_then(|port| port.parse().ok())
            .ok_or_else(|| format!("bad port in NATS URL nats://{hostport}"))?,
    };
    if host.is_empty() || host == "[]" {
        return Err(format!("no host in NATS URL nats://{hostport}"));
    }
    Ok(Server {
        addr: format!("{host}:{port}"),
        shown: format!("nats://{host}:{port}"),
        auth,
    })
}

fn parse_credentials(creds: &str) -> Auth {
    match creds.split_once(':') {
        Some((user, pass)) => Auth::User {
            user: percent_decode(user),
            pass: percent_decode(pass),
        },
        None => Auth::Token(percent_decode(creds)),
    }
}

/// Credentials in URLs are percent-encoded when they contain `@`, `:` or `/`.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
        match hex {
            Some(hex) if bytes[i] == b'%' => {
                let digits = std::str::from_utf8(hex).unwrap_or_default();
                out.push(u8::from_str_radix(digits, 16).unwrap_or_default());
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The CONNECT options confab sends, in the order the protocol documents them.
#[derive(serde::Serialize)]
struct ConnectOptions<'a> {
    verbose: bool,
    pedantic: bool,
    lang: &'a str,
    version: &'a str,
    name: &'a str,
    protocol: u8,
    headers: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pass: Option<&'a str>,
}

pub(super) fn connect_line(server: &Server, name: &str) -> String {
    let (auth_token, user, pass) = match &server.auth {
        Auth::None => (None, None, None),
        Auth::Token(token) => (Some(token.as_str()), None, None),
        Auth::User { user, pass } => (None, Some(user.as_str()), Some(pass.as_str())),
    };
    let options = ConnectOptions {
        verbose: false,
        pedantic: false,
        lang: "rust",
        version: env!("CARGO_PKG_VERSION"),
        name,
        protocol: 1,
        headers: true,
        auth_token,
        user,
        pass,
    };
    let json = serde_json::to_string(&options).expect("CONNECT options serialize");
    format!("CONNECT {json}\r\n")
}

/// The few INFO fields confab reads; anything else the server says is ignored.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct Info {
    #[serde(default)]
    pub(super) tls_required: bool,
    #[serde(default)]
    pub(super) max_payload: Option<usize>,
}

impl Info {
    /// Reads an INFO object; one that is not valid JSON counts as saying nothing.
    pub(super) fn parse(info: &str) -> Self {
        serde_json::from_str(info).unwrap_or_else(|err| {
            tracing::warn!(error = %err, "ignoring a malformed NATS INFO");
            Self::default()
        })
    }
}

// ---- the server's side of the protocol --------------------------------------------------

/// What the server sends, reduced to what the client acts on.
#[derive(Debug, PartialEq)]
pub(super) enum ServerOp {
    Info(String),
    /// MSG, or HMSG with its headers already cut off.
    Msg {
        sid: u64,
        payload: Bytes,
    },
    Ping,
    Pong,
    Ok,
    Err(String),
}

/// Takes one complete operation off the front of `buf`; `Ok(None)` means more bytes are
/// needed (nothing is consumed). `Err` means the stream cannot be trusted any more.
pub(super) fn parse_op(buf: &mut BytesMut) -> Result<Option<ServerOp>, String> {
    let Some(newline) = buf.iter().take(MAX_CONTROL_LINE).position(|&b| b == b'\n') else {
        if buf.len() >= MAX_CONTROL_LINE {
            return Err(format!("control line longer than {MAX_CONTROL_LINE} bytes"));
        }
        return Ok(None);
    };
    let line_len = newline + 1;
    let raw = &buf[..newline];
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let line = std::str::from_utf8(raw).map_err(|_| "control line is not UTF-8".to_string())?;
    let (op, args) = match line.find([' ', '\t']) {
        Some(at) => (&line[..at], line[at..].trim()),
        None => (line, ""),
    };
    let simple = if op.eq_ignore_ascii_case("PING") {
        Some(ServerOp::Ping)
    } else if op.eq_ignore_ascii_case("PONG") {
        Some(ServerOp::Pong)
    } else if op.eq_ignore_ascii_case("+OK") {
        Some(ServerOp::Ok)
    } else if op.eq_ignore_ascii_case("-ERR") {
        Some(ServerOp::Err(args.trim_matches('\'').to_owned()))
    } else if op.eq_ignore_ascii_case("INFO") {
        Some(ServerOp::Info(args.to_owned()))
    } else {
        None
    };
    if let Some(op) = simple {
        buf.advance(line_len);
        return Ok(Some(op));
    }
    let headers = if op.eq_ignore_ascii_case("MSG") {
        false
    } else if op.eq_ignore_ascii_case("HMSG") {
        true
    } else {
        return Err(format!("unexpected line {:?}", preview(line)));
    };
    let (sid, header_len, total_len) =
        msg_args(args, headers).ok_or_else(|| format!("malformed line {:?}", preview(line)))?;
    let needed = line_len + total_len + 2;
    if buf.len() < needed {
        buf.reserve(needed - buf.len());
        return Ok(None);
    }
    if &buf[needed - 2..needed] != b"\r\n" {
        return Err(format!(
            "payload of {total_len} bytes is not followed by CRLF"
        ));
    }
    buf.advance(line_len);
    let payload = buf.split_to(total_len).freeze().slice(header_len..);
    buf.advance(2);
    Ok(Some(ServerOp::Msg { sid, payload }))
}

/// `subject sid [reply-to] #bytes` for MSG, `subject sid [reply-to] #header-bytes #total-bytes`
/// for HMSG; returns (sid, header bytes, total bytes).
fn msg_args(args: &str, headers: bool) -> Option<(u64, usize, usize)> {
    let mut parts = [""; 5];
    let mut count = 0;
    for part in args.split_ascii_whitespace() {
        *parts.get_mut(count)? = part;
        count += 1;
    }
    let (sid, header_len, total_len) = match (headers, count) {
        (false, 3) => (parts[1], "0", parts[2]),
        (false, 4) => (parts[1], "0", parts[3]),
        (true, 4) => (parts[1], parts[2], parts[3]),
        (true, 5) => (parts[1], parts[3], parts[4]),
        _ => return None,
    };
    let sid = sid.parse().ok()?;
    let header_len: usize = header_len.parse().ok()?;
    let total_len: usize = total_len.parse().ok()?;
    (header_len <= total_len && total_len <= MAX_MESSAGE).then_some((sid, header_len, total_len))
}

fn preview(line: &str) -> &str {
    let end = line.char_indices().nth(80).map_or(line.len(), |(at, _)| at);
    &line[..end]
}

#[cfg(test)]
mod tests {
    use bytes::BufMut;

    use super::*;

    fn parse_all(buf: &mut BytesMut) -> Vec<ServerOp> {
        let mut ops = Vec::new();
        while let Some(op) = parse_op(buf).unwrap() {
            ops.push(op);
        }
        ops
    }

    fn msg(sid: u64, payload: &'static str) -> ServerOp {
        ServerOp::Msg {
            sid,
            payload: Bytes::from_static(payload.as_bytes()),
        }
    }

    const STREAM: &[u8] = b"INFO {\"max_payload\":1024}\r\n+OK\r\nMSG a.b 1 5\r\nhello\r\n\
        PING\r\nMSG a.b 2 inbox.1 0\r\n\r\nHMSG a.c 3 12 14\r\nNATS/1.0\r\n\r\nhi\r\n\
        -ERR 'Slow Consumer'\r\nPONG\r\n";

    fn expected() -> Vec<ServerOp> {
        vec![
            ServerOp::Info("{\"max_payload\":1024}".into()),
            ServerOp::Ok,
            msg(1, "hello"),
            ServerOp::Ping,
            msg(2, ""),
            msg(3, "hi"),
            ServerOp::Err("Slow Consumer".into()),
            ServerOp::Pong,
        ]
    }

    #[test]
    fn a_whole_stream_parses_into_its_operations() {
        let mut buf = BytesMut::from(STREAM);
        assert_eq!(parse_all(&mut buf), expected());
        assert!(buf.is_empty());
    }

    #[test]
    fn operations_split_at_every_byte_boundary_parse_the_same() {
        for split in 0..STREAM.len() {
            let mut buf = BytesMut::from(&STREAM[..split]);
            let mut ops = parse_all(&mut buf);
            buf.extend_from_slice(&STREAM[split..]);
            ops.extend(parse_all(&mut buf));
            assert_eq!(ops, expected(), "split at {split}");
        }
    }

    #[test]
    fn a_stream_arriving_one_byte_at_a_time_parses_the_same() {
        let mut buf = BytesMut::new();
        let mut ops = Vec::new();
        for byte in STREAM {
            buf.put_u8(*byte);
            ops.extend(parse_all(&mut buf));
        }
        assert_eq!(ops, expected());
    }

    #[test]
    fn a_payload_may_contain_crlf_and_protocol_words() {
        let mut buf = BytesMut::from(&b"MSG s 7 13\r\nPING\r\nMSG x\r\n\r\n"[..]);
        assert_eq!(parse_all(&mut buf), vec![msg(7, "PING\r\nMSG x\r\n")]);
    }

    #[test]
    fn hmsg_with_a_reply_subject_yields_only_the_payload() {
        let mut buf =
            BytesMut::from(&b"HMSG s 9 _INBOX.x 18 21\r\nNATS/1.0\r\nA: b\r\n\r\nabc\r\n"[..]);
        assert_eq!(parse_all(&mut buf), vec![msg(9, "abc")]);
    }

    #[test]
    fn operation_names_are_case_insensitive() {
        let mut buf = BytesMut::from(&b"ping\r\nmsg s 1 1\r\nx\r\n+ok\r\n"[..]);
        assert_eq!(
            parse_all(&mut buf),
            vec![ServerOp::Ping, msg(1, "x"), ServerOp::Ok]
        );
    }

    #[test]
    fn malformed_lines_are_errors_not_panics() {
        let bad: &[&[u8]] = &[
            b"HELLO world\r\n",
            b"MSG a 1\r\n",
            b"MSG a x 3\r\nabc\r\n",
            b"MSG a 1 -3\r\nabc\r\n",
            b"MSG a 1 3\r\nabcXY",
            b"MSG a 1 2 3 4 5 6\r\n",
            b"HMSG a 1 5 3\r\nabc\r\n",
            b"HMSG a 1 3\r\nabc\r\n",
            b"MSG a 1 99999999999999999999999\r\n",
            b"\r\n",
            b"\xff\xfe\r\n",
        ];
        for input in bad {
            let mut buf = BytesMut::from(*input);
            assert!(
                parse_op(&mut buf).is_err(),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn an_endless_control_line_is_an_error() {
        let mut buf = BytesMut::from(&vec![b'A'; MAX_CONTROL_LINE][..]);
        assert!(parse_op(&mut buf).is_err());
        let mut buf = BytesMut::from(&vec![b'A'; 100][..]);
        assert_eq!(parse_op(&mut buf), Ok(None));
    }

    #[test]
    fn info_fields_are_read_from_the_json() {
        let info =
            r#"{"server_id":"x","max_payload" : 1048576,"tls_required":true,"headers":true}"#;
        let parsed = Info::parse(info);
        assert_eq!(parsed.max_payload, Some(1_048_576));
        assert!(parsed.tls_required);
        let bare = Info::parse(r#"{"server_id":"x"}"#);
        assert!(!bare.tls_required);
        assert_eq!(bare.max_payload, None);
    }

    #[test]
    fn urls_accept_credentials_tokens_lists_and_default_ports() {
        let servers =
            parse_urls("nats://u%40x:p%3Aw@10.0.0.1:4223, nats://tok@h2 ,nats://[::1]").unwrap();
        assert_eq!(servers[0].addr, "10.0.0.1:4223");
        assert_eq!(servers[0].shown, "nats://10.0.0.1:4223");
        assert!(
            matches!(&servers[0].auth, Auth::User { user, pass } if user == "u@x" && pass == "p:w")
        );
        assert_eq!(servers[1].addr, "h2:4222");
        assert!(matches!(&servers[1].auth, Auth::Token(t) if t == "tok"));
        assert_eq!(servers[2].addr, "[::1]:4222");
        assert!(matches!(servers[2].auth, Auth::None));
    }

    #[test]
    fn unsupported_urls_are_refused_with_a_reason() {
        let tls = parse_urls("tls://h:4222").err().unwrap();
        assert!(tls.contains("TLS"), "{tls}");
        let http = parse_urls("http://h:4222").err().unwrap();
        assert!(http.contains("nats://"), "{http}");
        for bad in ["h:4222", "", "nats://", "nats://h:port", "nats://[::1"] {
            assert!(parse_urls(bad).is_err(), "{bad}");
        }
        let secret = parse_urls("nats://user:hunter2@h:x").err().unwrap();
        assert!(!secret.contains("hunter2"), "{secret}");
    }

    #[test]
    fn connect_escapes_the_name_and_carries_credentials() {
        let server = parse_url("nats://a\"b:c@h").unwrap();
        let line = connect_line(&server, "node \"1\"\n");
        assert!(line.starts_with("CONNECT {\"verbose\":false,\"pedantic\":false,"));
        let options: serde_json::Value =
            serde_json::from_str(line["CONNECT ".len()..].trim_end()).unwrap();
        assert_eq!(options["name"], "node \"1\"\n", "{line}");
        assert_eq!(options["user"], "a\"b", "{line}");
        assert_eq!(options["pass"], "c", "{line}");
        assert!(line.ends_with("}\r\n"));
    }

    #[test]
    fn subjects_with_whitespace_are_invalid() {
        assert!(valid_subject("confab.room.>"));
        for bad in ["", "a b", "a\r\nUNSUB 1", "a\tb"] {
            assert!(!valid_subject(bad), "{bad:?}");
        }
    }
}
