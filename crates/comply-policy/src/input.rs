//! The engine input, converted once per material and only as far as a script reads it.
//!
//! A large material costs more to convert into regorus values than most policies cost
//! to evaluate. Two things keep that cost down without changing what any policy sees:
//!
//! - **Direct conversion.** Values are built straight from the material's JSON tree and
//!   from the normalized view's Rust types (through serde), without printing and
//!   re-parsing JSON text; object keys are shared, not allocated once per object.
//! - **Conversion on demand.** A script's module is scanned at compile time for the
//!   parts of `input` it can reach ([`Needs`]). When every reference to `input` names a
//!   top-level key (`input.bomFormat`, `input.comply.components`), only those keys are
//!   put in that script's input; any other use of `input` (`input[k]`, `walk(input)`,
//!   `object.keys(input)`, `with input as …`, `import input`) gives it everything. A
//!   key a script never names cannot influence its result, so each script sees exactly
//!   what it would see in the whole document. Converted keys are kept in a
//!   [`PreparedInput`] and shared by every script evaluated on the same material.

use crate::material::Material;
use regorus::Value as RegoValue;
use serde::Serialize;
use serde::ser::{self, Impossible};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

/// Which parts of `input` a module can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needs {
    /// The whole input (some reference does not name a key).
    All,
    /// Only these top-level keys (`comply` excluded) and these parts of `input.comply`.
    Keys {
        top: BTreeSet<String>,
        comply: ComplyNeeds,
    },
}

/// Which parts of the normalized view (`input.comply`) a module can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComplyNeeds {
    None,
    Fields(BTreeSet<String>),
    All,
}

/// Keys the evaluation itself sets: never taken from the document.
const RESERVED: [&str; 3] = ["comply", "chainloop_metadata", "args"];

fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The identifier after a `.` at `at`, with the position after it.
fn field_at(source: &str, at: usize) -> Option<(&str, usize)> {
    let b = source.as_bytes();
    if b.get(at) != Some(&b'.') || !b.get(at + 1).copied().is_some_and(ident_start) {
        return None;
    }
    let start = at + 1;
    let mut end = start;
    while end < b.len() && ident_char(b[end]) {
        end += 1;
    }
    Some((&source[start..end], end))
}

/// Scans a Rego module (comments and strings skipped) for its references to `input`.
pub fn scan(source: &str) -> Needs {
    let b = source.as_bytes();
    let mut top = BTreeSet::new();
    let mut comply = ComplyNeeds::None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
                i += 1;
            }
            c if ident_char(c) => {
                let start = i;
                while i < b.len() && ident_char(b[i]) {
                    i += 1;
                }
                // `x.input` is a field of `x`, not the input document.
                if &source[start..i] != "input" || (start > 0 && b[start - 1] == b'.') {
                    continue;
                }
                let Some((key, end)) = field_at(source, i) else {
                    return Needs::All;
                };
                i = end;
                if key != "comply" {
                    top.insert(key.to_owned());
                    continue;
                }
                match (field_at(source, i), &mut comply) {
                    (_, ComplyNeeds::All) => {}
                    (Some((field, end)), ComplyNeeds::Fields(fields)) => {
                        fields.insert(field.to_owned());
                        i = end;
                    }
                    (Some((field, end)), ComplyNeeds::None) => {
                        comply = ComplyNeeds::Fields(BTreeSet::from([field.to_owned()]));
                        i = end;
                    }
                    (None, _) => comply = ComplyNeeds::All,
                }
            }
            _ => i += 1,
        }
    }
    Needs::Keys { top, comply }
}

// ---------------------------------------------------------------------------------
// Direct conversion: any `Serialize` value (a `serde_json::Value` tree or the normalized
// view) into regorus values, equal to what printing it as JSON and parsing that text
// with `regorus::Value::from_json_str` gives.

/// Shares object keys between the objects of one conversion.
#[derive(Default)]
struct Keys {
    known: HashMap<String, RegoValue>,
}

impl Keys {
    fn get(&mut self, key: &str) -> RegoValue {
        if let Some(v) = self.known.get(key) {
            return v.clone();
        }
        let v = RegoValue::from(key);
        self.known.insert(key.to_owned(), v.clone());
        v
    }
}

#[derive(Debug)]
struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Converts a value; `Undefined` if it cannot be represented (as `to_rego` does).
fn convert<T: Serialize + ?Sized>(value: &T, keys: &mut Keys) -> RegoValue {
    value
        .serialize(ToRego { keys })
        .unwrap_or(RegoValue::Undefined)
}

/// Converts a JSON value into regorus values.
pub fn json_to_rego(value: &serde_json::Value) -> RegoValue {
    convert(value, &mut Keys::default())
}

struct ToRego<'k> {
    keys: &'k mut Keys,
}

struct Seq<'k> {
    keys: &'k mut Keys,
    items: Vec<RegoValue>,
    /// For tuple variants: `{variant: [...]}`.
    variant: Option<&'static str>,
}

struct Map<'k> {
    keys: &'k mut Keys,
    entries: BTreeMap<RegoValue, RegoValue>,
    next_key: Option<RegoValue>,
    /// For struct variants: `{variant: {...}}`.
    variant: Option<&'static str>,
}

fn wrap(keys: &mut Keys, variant: Option<&'static str>, value: RegoValue) -> RegoValue {
    match variant {
        None => value,
        Some(name) => RegoValue::from(BTreeMap::from([(keys.get(name), value)])),
    }
}

impl<'k> ser::Serializer for ToRego<'k> {
    type Ok = RegoValue;
    type Error = Error;
    type SerializeSeq = Seq<'k>;
    type SerializeTuple = Seq<'k>;
    type SerializeTupleStruct = Seq<'k>;
    type SerializeTupleVariant = Seq<'k>;
    type SerializeMap = Map<'k>;
    type SerializeStruct = Map<'k>;
    type SerializeStructVariant = Map<'k>;

    fn serialize_bool(self, v: bool) -> Result<RegoValue, Error> {
        Ok(RegoValue::from(v))
    }
    fn serialize_i8(self, v: i8) -> Result<RegoValue, Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<RegoValue, Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<RegoValue, Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<RegoValue, Error> {
        // JSON text reads non-negative integers as unsigned.
        Ok(match u64::try_from(v) {
            Ok(u) => RegoValue::from(u),
            Err(_) => RegoValue::from(v),
        })
    }
    fn serialize_u8(self, v: u8) -> Result<RegoValue, Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<RegoValue, Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<RegoValue, Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<RegoValue, Error> {
        Ok(RegoValue::from(v))
    }
    fn serialize_f32(self, v: f32) -> Result<RegoValue, Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<RegoValue, Error> {
        // serde_json prints a non-finite float as null.
        Ok(RegoValue::from(v))
    }
    fn serialize_char(self, v: char) -> Result<RegoValue, Error> {
        Ok(RegoValue::from(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<RegoValue, Error> {
        Ok(RegoValue::from(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<RegoValue, Error> {
        Ok(RegoValue::from(
            v.iter()
                .map(|b| RegoValue::from(u64::from(*b)))
                .collect::<Vec<_>>(),
        ))
    }
    fn serialize_none(self) -> Result<RegoValue, Error> {
        Ok(RegoValue::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<RegoValue, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<RegoValue, Error> {
        Ok(RegoValue::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<RegoValue, Error> {
        Ok(RegoValue::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<RegoValue, Error> {
        Ok(RegoValue::from(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<RegoValue, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<RegoValue, Error> {
        let inner = value.serialize(ToRego {
            keys: &mut *self.keys,
        })?;
        Ok(wrap(self.keys, Some(variant), inner))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'k>, Error> {
        Ok(Seq {
            keys: self.keys,
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'k>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq<'k>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq<'k>, Error> {
        Ok(Seq {
            keys: self.keys,
            items: Vec::with_capacity(len),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map<'k>, Error> {
        Ok(Map {
            keys: self.keys,
            entries: BTreeMap::new(),
            next_key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Map<'k>, Error> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Map<'k>, Error> {
        Ok(Map {
            keys: self.keys,
            entries: BTreeMap::new(),
            next_key: None,
            variant: Some(variant),
        })
    }
}

impl Seq<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let v = value.serialize(ToRego {
            keys: &mut *self.keys,
        })?;
        self.items.push(v);
        Ok(())
    }
    fn finish(self) -> RegoValue {
        wrap(self.keys, self.variant, RegoValue::from(self.items))
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = RegoValue;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<RegoValue, Error> {
        Ok(self.finish())
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = RegoValue;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<RegoValue, Error> {
        Ok(self.finish())
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = RegoValue;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<RegoValue, Error> {
        Ok(self.finish())
    }
}

impl ser::SerializeTupleVariant for Seq<'_> {
    type Ok = RegoValue;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<RegoValue, Error> {
        Ok(self.finish())
    }
}

impl Map<'_> {
    fn insert<T: Serialize + ?Sized>(&mut self, key: RegoValue, value: &T) -> Result<(), Error> {
        let v = value.serialize(ToRego {
            keys: &mut *self.keys,
        })?;
        self.entries.insert(key, v);
        Ok(())
    }
    fn finish(self) -> RegoValue {
        wrap(self.keys, self.variant, RegoValue::from(self.entries))
    }
}

impl ser::SerializeMap for Map<'_> {
    type Ok = RegoValue;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.next_key = Some(key.serialize(KeyName {
            keys: &mut *self.keys,
        })?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| Error("a map value without its key".into()))?;
        self.insert(key, value)
    }
    fn end(self) -> Result<RegoValue, Error> {
        Ok(self.finish())
    }
}

impl ser::SerializeStruct for Map<'_> {
    type Ok = RegoValue;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let key = self.keys.get(key);
        self.insert(key, value)
    }
    fn end(self) -> Result<RegoValue, Error> {
        Ok(self.finish())
    }
}

impl ser::SerializeStructVariant for Map<'_> {
    type Ok = RegoValue;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let key = self.keys.get(key);
        self.insert(key, value)
    }
    fn end(self) -> Result<RegoValue, Error> {
        Ok(self.finish())
    }
}

/// Map keys: strings (numbers and booleans written as JSON text writes them).
struct KeyName<'k> {
    keys: &'k mut Keys,
}

fn key_error() -> Error {
    Error("key must be a string".into())
}

impl ser::Serializer for KeyName<'_> {
    type Ok = RegoValue;
    type Error = Error;
    type SerializeSeq = Impossible<RegoValue, Error>;
    type SerializeTuple = Impossible<RegoValue, Error>;
    type SerializeTupleStruct = Impossible<RegoValue, Error>;
    type SerializeTupleVariant = Impossible<RegoValue, Error>;
    type SerializeMap = Impossible<RegoValue, Error>;
    type SerializeStruct = Impossible<RegoValue, Error>;
    type SerializeStructVariant = Impossible<RegoValue, Error>;

    fn serialize_str(self, v: &str) -> Result<RegoValue, Error> {
        Ok(self.keys.get(v))
    }
    fn serialize_bool(self, v: bool) -> Result<RegoValue, Error> {
        Ok(self.keys.get(if v { "true" } else { "false" }))
    }
    fn serialize_i8(self, v: i8) -> Result<RegoValue, Error> {
        Ok(self.keys.get(&v.to_string()))
    }
    fn serialize_i16(self, v: i16) -> Result<RegoValue, Error> {
        Ok(self.keys.get(&v.to_string()))
    }
    fn serialize_i32(self, v: i32) -> Result<RegoValue, Error> {
        Ok(self.keys.get(&v.to_string()))
    }
    fn serialize_i64(self, v: i64) -> Result<RegoValue, Error> {
        Ok(self.keys.get(&v.to_string()))
    }
    fn serialize_u8(self, v: u8) -> Result<RegoValue, Error> {
        Ok(self.keys.get(&v.to_string()))
    }
    fn serialize_u16(self, v: u16) -> Result<RegoValue, Error> {
        Ok(self.keys.get(&v.to_string()))
    }
    fn serialize_u32(self, v: u32) -> Result<RegoValue, Error> {
        Ok(self.keys.get(&v.to_string()))
    }
    fn serialize_u64(self, v: u64) -> Result<RegoValue, Error> {
        Ok(self.keys.get(&v.to_string()))
    }
    fn serialize_f32(self, _: f32) -> Result<RegoValue, Error> {
        Err(key_error())
    }
    fn serialize_f64(self, _: f64) -> Result<RegoValue, Error> {
        Err(key_error())
    }
    fn serialize_char(self, v: char) -> Result<RegoValue, Error> {
        Ok(self.keys.get(&v.to_string()))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<RegoValue, Error> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<RegoValue, Error> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<RegoValue, Error> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<RegoValue, Error> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<RegoValue, Error> {
        Err(key_error())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<RegoValue, Error> {
        Ok(self.keys.get(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<RegoValue, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<RegoValue, Error> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}

/// The fields of a struct, each converted on its own: `(name, value)` for the fields
/// `wanted` accepts and the struct serializes (fields skipped when empty are absent).
fn struct_fields<T: Serialize>(
    value: &T,
    wanted: &dyn Fn(&str) -> bool,
    keys: &mut Keys,
) -> Vec<(&'static str, RegoValue)> {
    let mut out = Vec::new();
    let _ = value.serialize(Fields {
        wanted,
        keys,
        out: &mut out,
    });
    out
}

struct Fields<'a, 'k> {
    wanted: &'a dyn Fn(&str) -> bool,
    keys: &'k mut Keys,
    out: &'a mut Vec<(&'static str, RegoValue)>,
}

impl ser::SerializeStruct for Fields<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if (self.wanted)(key) {
            let v = value.serialize(ToRego {
                keys: &mut *self.keys,
            })?;
            self.out.push((key, v));
        }
        Ok(())
    }
    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

fn not_a_struct() -> Error {
    Error("not a struct".into())
}

impl<'a, 'k> ser::Serializer for Fields<'a, 'k> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_bool(self, _: bool) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_f64(self, _: f64) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_char(self, _: char) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_str(self, _: &str) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_a_struct())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_a_struct())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_a_struct())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_a_struct())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_a_struct())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_a_struct())
    }
}

// ---------------------------------------------------------------------------------
// The prepared input.

/// A material converted for the engine, key by key as scripts ask for them: the
/// document's top-level keys (a top-level array as `elements`, another scalar as
/// `value`) and the fields of the normalized view. Share one between the scripts
/// evaluated on the same material; see [`crate::prepare_input`].
pub struct PreparedInput {
    sha256: String,
    kind: String,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    keys: Keys,
    /// Document keys converted so far (`None`: the document has no such key).
    raw: HashMap<String, Option<RegoValue>>,
    /// Normalized-view fields converted so far.
    comply: HashMap<String, Option<RegoValue>>,
    /// Whether every field of the normalized view is in `comply`.
    comply_complete: bool,
}

/// The document's top-level entries as the engine input has them.
fn raw_entries(content: &serde_json::Value) -> Vec<(&str, &serde_json::Value)> {
    match content {
        serde_json::Value::Object(o) => o.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        serde_json::Value::Array(_) => vec![("elements", content)],
        serde_json::Value::Null => Vec::new(),
        other => vec![("value", other)],
    }
}

fn raw_entry<'a>(content: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    match content {
        serde_json::Value::Object(o) => o.get(key),
        serde_json::Value::Array(_) => (key == "elements").then_some(content),
        serde_json::Value::Null => None,
        other => (key == "value").then_some(other),
    }
}

impl PreparedInput {
    /// Nothing is converted yet.
    pub fn new(material: &Material) -> PreparedInput {
        PreparedInput {
            sha256: material.sha256.clone(),
            kind: material.kind.clone(),
            cache: Mutex::new(Cache::default()),
        }
    }

    /// Whether this was prepared for `material`.
    pub fn is_for(&self, material: &Material) -> bool {
        self.sha256 == material.sha256 && self.kind == material.kind
    }

    /// The whole material part of the engine input (without `chainloop_metadata` and
    /// `args`): what a script that reads everything gets.
    pub fn whole(&self, material: &Material) -> RegoValue {
        RegoValue::from(self.object_for(material, &Needs::All))
    }

    /// The input object a script with `needs` reads: the material's part of it
    /// (without `chainloop_metadata` and `args`).
    pub(crate) fn object_for(
        &self,
        material: &Material,
        needs: &Needs,
    ) -> BTreeMap<RegoValue, RegoValue> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let cache = &mut *cache;
        let mut out = BTreeMap::new();
        let (top, comply): (Vec<&str>, &ComplyNeeds) = match needs {
            Needs::All => (
                raw_entries(&material.content)
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect(),
                &ComplyNeeds::All,
            ),
            Needs::Keys { top, comply } => (top.iter().map(String::as_str).collect(), comply),
        };
        for key in top {
            if RESERVED.contains(&key) {
                continue;
            }
            if !cache.raw.contains_key(key) {
                let value = raw_entry(&material.content, key).map(|v| convert(v, &mut cache.keys));
                cache.raw.insert(key.to_owned(), value);
            }
            if let Some(Some(value)) = cache.raw.get(key) {
                out.insert(cache.keys.get(key), value.clone());
            }
        }
        let view = &material.normalized;
        let fields: Option<Vec<(String, RegoValue)>> = match comply {
            ComplyNeeds::None => None,
            ComplyNeeds::All => {
                if !cache.comply_complete {
                    let done: BTreeSet<String> = cache.comply.keys().cloned().collect();
                    let missing = |name: &str| !done.contains(name);
                    for (name, value) in struct_fields(view, &missing, &mut cache.keys) {
                        cache.comply.insert(name.to_owned(), Some(value));
                    }
                    cache.comply_complete = true;
                }
                Some(
                    cache
                        .comply
                        .iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                        .collect(),
                )
            }
            ComplyNeeds::Fields(wanted) => {
                let missing: BTreeSet<&str> = wanted
                    .iter()
                    .map(String::as_str)
                    .filter(|f| !cache.comply.contains_key(*f))
                    .collect();
                if !missing.is_empty() && !cache.comply_complete {
                    let converted =
                        struct_fields(view, &|name| missing.contains(name), &mut cache.keys);
                    for (name, value) in converted {
                        cache.comply.insert(name.to_owned(), Some(value));
                    }
                }
                // Asked for and absent (a field skipped when empty, or unknown).
                for name in missing {
                    cache.comply.entry(name.to_owned()).or_insert(None);
                }
                Some(
                    wanted
                        .iter()
                        .filter_map(|k| Some((k.clone(), cache.comply.get(k)?.clone()?)))
                        .collect(),
                )
            }
        };
        if let Some(fields) = fields {
            let object: BTreeMap<RegoValue, RegoValue> = fields
                .into_iter()
                .map(|(k, v)| (cache.keys.get(&k), v))
                .collect();
            out.insert(cache.keys.get("comply"), RegoValue::from(object));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(top: &[&str], comply: ComplyNeeds) -> Needs {
        Needs::Keys {
            top: top.iter().map(|s| (*s).to_owned()).collect(),
            comply,
        }
    }

    fn fields(names: &[&str]) -> ComplyNeeds {
        ComplyNeeds::Fields(names.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn scan_finds_the_keys_a_module_names() {
        let source = r#"package main
import rego.v1
# input[x] in a comment does not count, nor "input" in a string: "input[0]" `input`
valid_input if input.bomFormat == "CycloneDX"
n := count(input.comply.components) + count(input.comply.vulnerabilities[_].aliases)
m := input.metadata.authors[0]
my_input := 1
x := data.input
"#;
        assert_eq!(
            scan(source),
            keys(
                &["bomFormat", "metadata"],
                fields(&["components", "vulnerabilities"])
            )
        );
        assert_eq!(
            scan("package p\nx := input.comply\ny := input.comply.format\n"),
            keys(&[], ComplyNeeds::All)
        );
        assert_eq!(scan("package p\nx := 1\n"), keys(&[], ComplyNeeds::None));
    }

    #[test]
    fn scan_gives_everything_for_other_uses_of_input() {
        for source in [
            "package p\nx := input\n",
            "package p\nx := input[\"a\"]\n",
            "package p\nx := object.keys(input)\n",
            "package p\nimport input\n",
            "package p\nimport input as doc\n",
            "package p\ny := f with input as {}\n",
            "package p\nx := input .a\n",
            "package p\nx := input.\n",
            "package p\nx := input.9\n",
        ] {
            assert_eq!(scan(source), Needs::All, "{source}");
        }
    }

    #[test]
    fn direct_conversion_equals_json_text() {
        let doc = json!({
            "a": [1, -2, 3.5, 1e300, 0, -0.0, 18446744073709551615u64, true, null, "x\u{e9}\"y"],
            "b": {"c": {}, "d": [], "e": [{"k": 1}, {"k": 2, "j": "v"}]},
            "": "empty key"
        });
        let text = serde_json::to_string(&doc).unwrap();
        assert_eq!(json_to_rego(&doc), RegoValue::from_json_str(&text).unwrap());
    }
}
