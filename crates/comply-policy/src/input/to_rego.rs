//! Direct conversion: any `Serialize` value (a `serde_json::Value` tree or the normalized
//! view) into regorus values, equal to what printing it as JSON and parsing that text
//! with `regorus::Value::from_json_str` gives.

use regorus::Value as RegoValue;
use serde::Serialize;
use serde::ser::{self, Impossible};
use std::collections::{BTreeMap, HashMap};

/// Shares object keys between the objects of one conversion.
#[derive(Default)]
pub(super) struct Keys {
    known: HashMap<String, RegoValue>,
}

impl Keys {
    pub(super) fn get(&mut self, key: &str) -> RegoValue {
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
pub(super) fn convert<T: Serialize + ?Sized>(value: &T, keys: &mut Keys) -> RegoValue {
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
pub(super) fn struct_fields<T: Serialize>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
