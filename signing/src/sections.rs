//! The top-level section framing of a WebAssembly binary (core module or
//! component): enough to find, strip and append custom sections. Nested
//! modules inside a component are opaque bytes here.

use std::ops::Range;

use crate::{Error, Result};

const MAGIC: &[u8; 4] = b"\0asm";
const CUSTOM: u8 = 0;

/// One top-level section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Section id (0 for custom sections).
    pub id: u8,
    /// Bytes of the whole section, id and size included.
    pub range: Range<usize>,
    /// For a custom section: its name and the range of its payload.
    pub custom: Option<(String, Range<usize>)>,
}

/// Split `bytes` into its top-level sections, checking the framing.
///
/// A file cut short (a partial copy) is an error that says so.
pub fn sections(bytes: &[u8]) -> Result<Vec<Section>> {
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(Error::NotWasm(
            "it does not start with the WebAssembly magic bytes".into(),
        ));
    }
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < bytes.len() {
        let start = pos;
        let id = bytes[pos];
        pos += 1;
        let size = leb_u32(bytes, &mut pos)? as usize;
        let end = pos
            .checked_add(size)
            .filter(|&e| e <= bytes.len())
            .ok_or(Error::Truncated {
                offset: start,
                needed: pos.saturating_add(size),
                len: bytes.len(),
            })?;
        let custom = if id == CUSTOM {
            let mut p = pos;
            let name_len = leb_u32(bytes, &mut p)? as usize;
            let name_end = p
                .checked_add(name_len)
                .filter(|&e| e <= end)
                .ok_or_else(|| {
                    Error::NotWasm(format!(
                        "custom section at byte {start} has a name longer than the section"
                    ))
                })?;
            let name = std::str::from_utf8(&bytes[p..name_end]).map_err(|_| {
                Error::NotWasm(format!(
                    "custom section at byte {start} has a name that is not UTF-8"
                ))
            })?;
            Some((name.to_string(), name_end..end))
        } else {
            None
        };
        out.push(Section {
            id,
            range: start..end,
            custom,
        });
        pos = end;
    }
    Ok(out)
}

fn leb_u32(bytes: &[u8], pos: &mut usize) -> Result<u32> {
    let start = *pos;
    let mut value: u64 = 0;
    for shift in (0..35).step_by(7) {
        let Some(&byte) = bytes.get(*pos) else {
            return Err(Error::Truncated {
                offset: start,
                needed: *pos + 1,
                len: bytes.len(),
            });
        };
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return u32::try_from(value)
                .map_err(|_| Error::NotWasm(format!("section size at byte {start} is too large")));
        }
    }
    Err(Error::NotWasm(format!(
        "section size at byte {start} is not a valid LEB128 number"
    )))
}

/// The payload of every custom section called `name`, in file order.
pub fn custom_sections<'a>(bytes: &'a [u8], sections: &[Section], name: &str) -> Vec<&'a [u8]> {
    sections
        .iter()
        .filter_map(|s| s.custom.as_ref())
        .filter(|(n, _)| n == name)
        .map(|(_, data)| &bytes[data.clone()])
        .collect()
}

/// `bytes` without the custom sections called `name`.
pub fn strip_custom(bytes: &[u8], sections: &[Section], name: &str) -> Vec<u8> {
    let mut out = bytes[..8].to_vec();
    for s in sections {
        if !matches!(&s.custom, Some((n, _)) if n == name) {
            out.extend_from_slice(&bytes[s.range.clone()]);
        }
    }
    out
}

/// Append a custom section called `name` holding `data`.
pub fn append_custom(bytes: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut payload = Vec::with_capacity(name.len() + data.len() + 5);
    push_leb(&mut payload, name.len() as u32);
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(data);
    bytes.push(CUSTOM);
    push_leb(bytes, payload.len() as u32);
    bytes.extend_from_slice(&payload);
}

fn push_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module() -> Vec<u8> {
        // Header of a core module plus one empty type section.
        vec![0, b'a', b's', b'm', 1, 0, 0, 0, 1, 1, 0]
    }

    #[test]
    fn appends_finds_and_strips_custom_sections() {
        let mut bytes = module();
        append_custom(&mut bytes, "one", b"first");
        append_custom(&mut bytes, "two", &[7; 300]);
        append_custom(&mut bytes, "one", b"again");
        let s = sections(&bytes).unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(
            custom_sections(&bytes, &s, "one"),
            vec![&b"first"[..], &b"again"[..]]
        );
        assert_eq!(custom_sections(&bytes, &s, "two")[0].len(), 300);
        let stripped = strip_custom(&bytes, &s, "one");
        let s2 = sections(&stripped).unwrap();
        assert_eq!(s2.len(), 2);
        assert!(custom_sections(&stripped, &s2, "one").is_empty());
    }

    #[test]
    fn refuses_truncated_and_foreign_bytes() {
        let mut bytes = module();
        append_custom(&mut bytes, "x", &[1; 40]);
        // Any cut inside a section is refused; a cut between sections is a
        // shorter valid file (which the signature then refuses).
        for cut in (9..11).chain(module().len() + 1..bytes.len()) {
            assert!(
                matches!(sections(&bytes[..cut]), Err(Error::Truncated { .. })),
                "cut at {cut}"
            );
        }
        assert!(matches!(sections(b"hello world"), Err(Error::NotWasm(_))));
        assert!(sections(&bytes[..8]).unwrap().is_empty());
    }
}
