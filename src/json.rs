//! A compact JSON serializer for responses and socket frames.
//!
//! It writes what `serde_json` writes (the tests compare the two), but checks each string for
//! characters that need escaping in one branch-free pass and copies it whole when there are
//! none, which is nearly always. Profiling a 1,000-room `get_list_by_user` showed
//! `serde_json`'s byte-by-byte escaping at 17 % of the server's instructions: a room list is
//! about 1.4 MB of JSON, most of it field names and short strings.
//!
//! Struct field names are copied without that check: they are confab's own (Rust identifiers
//! and `rename`s, never with a quote, a backslash or a control character; debug builds assert
//! it), and skipping the check on them cut a 1,000-room list's instructions by a tenth. Map
//! keys and every value are checked.

use std::fmt::Display;

use serde::ser::{self, Serialize};

/// Serializes `value` into a new buffer.
pub fn to_vec(value: &(impl Serialize + ?Sized)) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(256);
    write(&mut out, value)?;
    Ok(out)
}

/// Appends `value`, serialized, to `out`.
pub fn write(out: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) -> Result<(), Error> {
    value.serialize(&mut Writer { out })
}

/// Why a value could not be serialized (only a map key that is not a string or a number).
#[derive(Debug)]
pub struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Whether any byte of `bytes` must be escaped in a JSON string, in one branch-free pass.
fn needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// Writes `s` as a JSON string, escaping as `serde_json` does.
fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
    } else {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let short = match b {
                b'"' => b'"',
                b'\\' => b'\\',
                b'\n' => b'n',
                b'\r' => b'r',
                b'\t' => b't',
                0x08 => b'b',
                0x0c => b'f',
                0..=0x1f => b'u',
                _ => continue,
            };
            out.extend_from_slice(&bytes[start..i]);
            start = i + 1;
            if short == b'u' {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            } else {
                out.push(b'\\');
                out.push(short);
            }
        }
        out.extend_from_slice(&bytes[start..]);
    }
    out.push(b'"');
}

/// The ten integer methods of a serializer: written as they are (`write`), or quoted as an
/// object key (`quote`).
macro_rules! integers {
    (@one write $method:ident $ty:ty) => {
        fn $method(self, v: $ty) -> Result<(), Error> {
            self.out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
            Ok(())
        }
    };
    (@one quote $method:ident $ty:ty) => {
        fn $method(self, v: $ty) -> Result<(), Error> {
            self.quoted(itoa::Buffer::new().format(v))
        }
    };
    ($how:ident) => {
        integers!(@one $how serialize_i8 i8);
        integers!(@one $how serialize_i16 i16);
        integers!(@one $how serialize_i32 i32);
        integers!(@one $how serialize_i64 i64);
        integers!(@one $how serialize_i128 i128);
        integers!(@one $how serialize_u8 u8);
        integers!(@one $how serialize_u16 u16);
        integers!(@one $how serialize_u32 u32);
        integers!(@one $how serialize_u64 u64);
        integers!(@one $how serialize_u128 u128);
    };
}

/// Floats are rare in confab's views: `serde_json` writes them, so their exact form (shortest
/// round-trip digits, per type; `null` for NaN) is its own.
fn write_float(out: &mut Vec<u8>, value: &(impl Serialize + Copy)) -> Result<(), Error> {
    serde_json::to_writer(out, value).map_err(|e| Error(e.to_string()))
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

/// An array or object being written; `first` says whether a comma is due.
#[doc(hidden)]
pub struct Compound<'w, 'a> {
    writer: &'w mut Writer<'a>,
    first: bool,
    /// Closing bytes: `]`, `}`, or `]}` / `}}` for enum variants.
    close: &'static [u8],
}

impl Compound<'_, '_> {
    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.writer.out.push(b',');
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.comma();
        value.serialize(&mut *self.writer)
    }

    /// A struct field. Its name is one of confab's own field names (a Rust identifier or a
    /// `rename`), which never needs escaping, so it is copied without the escape scan that
    /// [`write_str`] gives values: names are most of the strings in a room list.
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        debug_assert!(
            !needs_escape(key.as_bytes()),
            "field name {key:?} needs escaping"
        );
        self.comma();
        let out = &mut *self.writer.out;
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        value.serialize(&mut *self.writer)
    }

    fn finish(self) -> Result<(), Error> {
        self.writer.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'w, 'a> Writer<'a> {
    fn open(&'w mut self, open: &[u8], close: &'static [u8]) -> Compound<'w, 'a> {
        self.out.extend_from_slice(open);
        Compound {
            writer: self,
            first: true,
            close,
        }
    }

    /// `{"variant":` before an enum variant's content.
    fn variant_key(&mut self, variant: &str) {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
    }
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    integers!(write);
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        write_float(self.out, &v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        write_float(self.out, &v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for byte in v {
            seq.serialize_element(byte)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant_key(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Ok(self.open(b"[", b"]"))
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        self.variant_key(variant);
        Ok(self.open(b"[", b"]}"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Ok(self.open(b"{", b"}"))
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Ok(self.open(b"{", b"}"))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        self.variant_key(variant);
        Ok(self.open(b"{", b"}}"))
    }
}

/// The sequence-like and struct-like parts of a [`Compound`]: each only forwards to it.
macro_rules! compound {
    ($($trait:ident :: $method:ident;)*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
    ($($trait:ident;)*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.field(key, value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

compound! {
    SerializeSeq::serialize_element;
    SerializeTuple::serialize_element;
    SerializeTupleStruct::serialize_field;
    SerializeTupleVariant::serialize_field;
}
compound! {
    SerializeStruct;
    SerializeStructVariant;
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        key.serialize(KeyWriter {
            out: self.writer.out,
        })?;
        self.writer.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// Writes a map key: strings as they are, numbers, booleans and characters quoted, as
/// `serde_json` does; anything else is an error.
struct KeyWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl KeyWriter<'_> {
    fn quoted(self, text: &str) -> Result<(), Error> {
        write_str(self.out, text);
        Ok(())
    }
}

fn not_a_key() -> Error {
    Error("a JSON object key must be a string or a number".into())
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.quoted(if v { "true" } else { "false" })
    }
    integers!(quote);
    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.quoted(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.quoted(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_a_key())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_a_key())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_a_key())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_a_key())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_a_key())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;

    fn same_as_serde_json(value: &(impl Serialize + ?Sized)) {
        let ours = String::from_utf8(super::to_vec(value).unwrap()).unwrap();
        let theirs = serde_json::to_string(value).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        let mut every_ascii = String::new();
        for b in 0u8..0x80 {
            every_ascii.push(char::from(b));
        }
        for text in [
            "",
            "plain",
            "quote \" and backslash \\",
            "line\nbreak\r\ttab\u{8}\u{c}",
            "\u{0}\u{1f}\u{7f}",
            "ünïcödé ✓ 😀 / </script>",
            &every_ascii,
        ] {
            same_as_serde_json(text);
            same_as_serde_json(&'"');
        }
    }

    #[test]
    fn every_ascii_byte_is_found_at_every_position_of_a_word() {
        // Positions 0..17 cover both eight-byte words and the bytes after the last one;
        // neighbours of either width (one byte, or the two of 'é') must not hide a match.
        for filler in ['a', 'é', '\u{7f}'] {
            for b in 0u8..0x80 {
                for at in 0..17 {
                    let mut text: Vec<char> = std::iter::repeat_n(filler, 17).collect();
                    text[at] = char::from(b);
                    same_as_serde_json(&text.into_iter().collect::<String>());
                }
            }
        }
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct View<'a> {
        message_id: i64,
        big: u64,
        small: i8,
        flag: bool,
        missing: Option<&'a str>,
        present: Option<&'a str>,
        tags: Vec<&'a str>,
        empty: Vec<u8>,
        nested: Inner,
        ratio: f64,
        not_a_number: f64,
        single: f32,
        unit: (),
        kind: Kind,
        weird: char,
    }

    #[derive(Serialize)]
    struct BadName {
        #[serde(rename = "we\"ird")]
        weird: char,
    }

    #[derive(Serialize)]
    struct Inner {
        a: [u8; 3],
        t: (i32, &'static str),
    }

    #[derive(Serialize)]
    enum Kind {
        Plain,
    }

    #[derive(Serialize)]
    enum Shapes {
        Newtype(i32),
        Tuple(i32, i32),
        Struct { x: i32 },
    }

    #[test]
    fn structures_numbers_and_enums_match_serde_json() {
        same_as_serde_json(&View {
            message_id: -42,
            big: u64::MAX,
            small: i8::MIN,
            flag: true,
            missing: None,
            present: Some("x"),
            tags: vec!["a", "b\n"],
            empty: vec![],
            nested: Inner {
                a: [1, 2, 3],
                t: (7, "seven"),
            },
            ratio: 0.1,
            not_a_number: f64::NAN,
            single: 0.1,
            unit: (),
            kind: Kind::Plain,
            weird: '\\',
        });
        same_as_serde_json(&vec![
            Shapes::Newtype(1),
            Shapes::Tuple(2, 3),
            Shapes::Struct { x: 4 },
        ]);
        same_as_serde_json(&json!({"data": {"k": [1, -2.5, null, "s", {"deep": true}]}}));
    }

    #[test]
    #[should_panic(expected = "needs escaping")]
    fn a_field_name_that_would_need_escaping_is_caught_in_debug_builds() {
        let _ = super::to_vec(&BadName { weird: 'x' });
    }

    #[test]
    fn map_keys_are_quoted_like_serde_json_and_others_refused() {
        let numbers: BTreeMap<i64, &str> = [(-1, "a"), (2, "b")].into();
        same_as_serde_json(&numbers);
        let strings: BTreeMap<&str, i32> = [("k\"ey", 1)].into();
        same_as_serde_json(&strings);
        let bools: BTreeMap<bool, i32> = [(true, 1)].into();
        same_as_serde_json(&bools);
        let unit_keys: BTreeMap<Vec<u8>, i32> = [(vec![1], 1)].into();
        assert!(super::to_vec(&unit_keys).is_err());
        assert!(serde_json::to_vec(&unit_keys).is_err());
    }
}
