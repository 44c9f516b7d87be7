//! A small XML tree read with quick-xml, shared by the XML report formats (JUnit,
//! JaCoCo, Cobertura, PITest): they are projected to JSON from it.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

/// Deeper nesting is refused (the projection recurses).
pub(super) const MAX_DEPTH: usize = 128;

/// An XML element: local name, attributes, children and text (CDATA included).
#[derive(Debug, Default)]
pub(super) struct Element {
    pub(super) name: String,
    pub(super) attributes: Vec<(String, String)>,
    pub(super) children: Vec<Element>,
    pub(super) text: String,
}

impl Element {
    pub(super) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// Reads the whole document into a tree; every well-formedness problem quick-xml
/// reports, and unclosed or extra roots, are errors.
pub(super) fn parse(bytes: &[u8]) -> Result<Element, String> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let at = |reader: &Reader<&[u8]>| format!("at byte {}", reader.error_position());
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML {}: {e}", at(&reader)))?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements are nested more than {MAX_DEPTH} deep"));
                }
                if stack.is_empty() && root.is_some() {
                    return Err("more than one root element".into());
                }
                stack.push(element(&reader, &start)?);
            }
            Event::Empty(start) => {
                let e = element(&reader, &start)?;
                attach(&mut stack, &mut root, e)?;
            }
            Event::End(_) => {
                let e = stack
                    .pop()
                    .ok_or_else(|| format!("unexpected closing tag {}", at(&reader)))?;
                attach(&mut stack, &mut root, e)?;
            }
            Event::Text(text) => {
                let text = text
                    .xml_content()
                    .map_err(|e| format!("bad text {}: {e}", at(&reader)))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err("text outside the root element".into()),
                }
            }
            Event::CData(data) => {
                let text = data
                    .decode()
                    .map_err(|e| format!("bad CDATA {}: {e}", at(&reader)))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference
                    .resolve_char_ref()
                    .map_err(|e| format!("bad character reference {}: {e}", at(&reader)))?
                {
                    Some(c) => c.to_string(),
                    None => {
                        let name = reference
                            .decode()
                            .map_err(|e| format!("bad entity {}: {e}", at(&reader)))?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity &{name}; {}", at(&reader)))?
                            .to_owned()
                    }
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            // XML declaration, comments, processing instructions, DOCTYPE.
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "the document ends before <{}> is closed",
            open.name
        ));
    }
    root.ok_or_else(|| "the document has no root element".into())
}

fn element(reader: &Reader<&[u8]>, start: &BytesStart<'_>) -> Result<Element, String> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| {
            format!(
                "bad attribute in <{name}> at byte {}: {e}",
                reader.buffer_position()
            )
        })?;
        let key = String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned();
        let value = attribute
            .decode_and_unescape_value(reader.decoder())
            .map_err(|e| format!("bad value of {key} in <{name}>: {e}"))?
            .into_owned();
        attributes.push((key, value));
    }
    Ok(Element {
        name,
        attributes,
        ..Element::default()
    })
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, e: Element) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(e),
        None if root.is_none() => *root = Some(e),
        None => return Err("more than one root element".into()),
    }
    Ok(())
}

impl Element {
    /// The trimmed text of the first child named `name`.
    pub(super) fn child_text<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.children_named(name).next().map(|c| c.text.trim())
    }
}

/// The local name of the document's root element, read without building the tree
/// (detection looks at it before choosing a parser); `None` when it is not XML.
pub(super) fn root_name(bytes: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(bytes);
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) | Event::Empty(start) => {
                return Some(String::from_utf8_lossy(start.local_name().as_ref()).into_owned());
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}
