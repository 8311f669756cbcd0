//! Stand-in for `wincode`'s derive macros, written with the compiler's `proc_macro` only (no syn/quote).
//! `#[derive(SchemaRead)]` / `#[derive(SchemaWrite)]` support structs with named fields whose types implement
//! `wincode::Decode` / `wincode::Encode` (integers, bools, arrays of those), read and written in field order.

extern crate proc_macro; // plain rustc (no cargo) does not add it to the extern prelude

use proc_macro::{Delimiter, TokenStream, TokenTree};

struct Shape {
    name: String,
    fields: Vec<(String, String)>,
}

fn parse(input: TokenStream) -> Result<Shape, String> {
    let mut tokens = input.into_iter().peekable();
    let mut name = None;
    while let Some(tt) = tokens.next() {
        if let TokenTree::Ident(id) = &tt {
            if id.to_string() == "struct" {
                if let Some(TokenTree::Ident(n)) = tokens.next() {
                    name = Some(n.to_string());
                }
                break;
            }
            if id.to_string() == "enum" || id.to_string() == "union" {
                return Err("wincode stand-in: only structs with named fields can be derived".into());
            }
        }
    }
    let name = name.ok_or("wincode stand-in: expected a struct")?;
    for tt in tokens {
        match tt {
            TokenTree::Punct(p) if p.as_char() == '<' => {
                return Err("wincode stand-in: generic structs are not supported".into())
            }
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                return Ok(Shape { name, fields: fields(g.stream())? });
            }
            _ => {}
        }
    }
    Err("wincode stand-in: only structs with named fields can be derived".into())
}

fn fields(body: TokenStream) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut segment: Vec<TokenTree> = Vec::new();
    let mut depth = 0i32; // angle brackets inside types, e.g. PhantomData<u8>
    for tt in body.into_iter().chain(std::iter::once(TokenTree::Punct(proc_macro::Punct::new(
        ',',
        proc_macro::Spacing::Alone,
    )))) {
        if let TokenTree::Punct(p) = &tt {
            match p.as_char() {
                '<' => depth += 1,
                '>' => depth -= 1,
                ',' if depth == 0 => {
                    if !segment.is_empty() {
                        out.push(field(std::mem::take(&mut segment))?);
                    }
                    continue;
                }
                _ => {}
            }
        }
        segment.push(tt);
    }
    Ok(out)
}

fn field(tokens: Vec<TokenTree>) -> Result<(String, String), String> {
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Punct(p) if p.as_char() == '#' => i += 2, // attribute: `#` then `[...]`
            TokenTree::Ident(id) if id.to_string() == "pub" => {
                i += 1;
                if let Some(TokenTree::Group(g)) = tokens.get(i) {
                    if g.delimiter() == Delimiter::Parenthesis {
                        i += 1;
                    }
                }
            }
            _ => break,
        }
    }
    let name = match tokens.get(i) {
        Some(TokenTree::Ident(id)) => id.to_string(),
        _ => return Err("wincode stand-in: expected a named field".into()),
    };
    match tokens.get(i + 1) {
        Some(TokenTree::Punct(p)) if p.as_char() == ':' => {}
        _ => return Err("wincode stand-in: expected `name: Type`".into()),
    }
    let ty: TokenStream = tokens[i + 2..].iter().cloned().collect();
    Ok((name, ty.to_string()))
}

fn emit(code: String) -> TokenStream {
    code.parse().expect("wincode stand-in: generated code parses")
}

fn error(message: &str) -> TokenStream {
    emit(format!("compile_error!({:?});", message))
}

#[proc_macro_derive(SchemaRead)]
pub fn derive_schema_read(input: TokenStream) -> TokenStream {
    let shape = match parse(input) {
        Ok(shape) => shape,
        Err(e) => return error(&e),
    };
    let body: String = shape
        .fields
        .iter()
        .map(|(n, t)| format!("{n}: <{t} as ::wincode::Decode>::decode(reader)?,"))
        .collect();
    emit(format!(
        "impl ::wincode::SchemaRead for {name} {{
            fn read_from(reader: &mut ::wincode::Reader<'_>) -> ::wincode::ReadResult<Self> {{
                ::core::result::Result::Ok({name} {{ {body} }})
            }}
        }}",
        name = shape.name
    ))
}

#[proc_macro_derive(SchemaWrite)]
pub fn derive_schema_write(input: TokenStream) -> TokenStream {
    let shape = match parse(input) {
        Ok(shape) => shape,
        Err(e) => return error(&e),
    };
    let body: String = shape
        .fields
        .iter()
        .map(|(n, t)| format!("<{t} as ::wincode::Encode>::encode(&self.{n}, out);"))
        .collect();
    emit(format!(
        "impl ::wincode::SchemaWrite for {name} {{
            fn write_to(&self, out: &mut ::std::vec::Vec<u8>) {{ {body} }}
        }}",
        name = shape.name
    ))
}
