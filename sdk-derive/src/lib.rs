//! `#[derive(Params)]`: a plugin's config table read into a struct, every
//! key known, every value checked, the error naming the key. Use it through
//! `tradsys_sdk::Params`; its documentation is there.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, Fields, LitStr, Path, Type, parse_macro_input};

/// See `tradsys_sdk::Params`.
#[proc_macro_derive(Params, attributes(param, params))]
pub fn derive_params(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

/// What one field's `#[param(...)]` says.
#[derive(Default)]
struct Field {
    key: Option<LitStr>,
    default: Option<Expr>,
    /// `decimal` or `decimal = "1.5"`: a fixed-point decimal (its default).
    decimal: Option<Option<LitStr>>,
    min: Option<Expr>,
    max: Option<Expr>,
    positive: bool,
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.span(),
            "Params: a struct with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new(
            input.span(),
            "Params: a struct with named fields",
        ));
    };
    let mut also: Vec<LitStr> = Vec::new();
    let mut check: Option<Path> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("params")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("also") {
                also.push(meta.value()?.parse()?);
            } else if meta.path.is_ident("check") {
                check = Some(meta.value()?.parse()?);
            } else {
                return Err(meta.error("expected `also = \"key\"` or `check = path`"));
            }
            Ok(())
        })?;
    }
    let mut keys = Vec::new();
    let mut reads = Vec::new();
    let mut idents = Vec::new();
    for field in &fields.named {
        let ident = field.ident.as_ref().expect("named field");
        let mut spec = Field::default();
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("param")) {
            attr.parse_nested_meta(|meta| {
                let path = &meta.path;
                if path.is_ident("key") {
                    spec.key = Some(meta.value()?.parse()?);
                } else if path.is_ident("default") {
                    spec.default = Some(meta.value()?.parse()?);
                } else if path.is_ident("decimal") {
                    let value = if meta.input.peek(syn::Token![=]) {
                        let lit: LitStr = meta.value()?.parse()?;
                        check_decimal(&lit)?;
                        Some(lit)
                    } else {
                        None
                    };
                    spec.decimal = Some(value);
                } else if path.is_ident("min") {
                    spec.min = Some(meta.value()?.parse()?);
                } else if path.is_ident("max") {
                    spec.max = Some(meta.value()?.parse()?);
                } else if path.is_ident("positive") {
                    spec.positive = true;
                } else {
                    return Err(meta.error(
                        "expected `default = ..`, `decimal [= \"..\"]`, `min = ..`, `max = ..`, \
                         `positive` or `key = \"..\"`",
                    ));
                }
                Ok(())
            })?;
        }
        let key = spec
            .key
            .clone()
            .unwrap_or_else(|| LitStr::new(&ident.to_string(), ident.span()));
        keys.push(key.clone());
        reads.push(read_field(ident, &field.ty, &key, &spec)?);
        idents.push(ident);
    }
    let check = check.map(|path| quote! { #path(&value)?; });
    Ok(quote! {
        impl ::tradsys_sdk::Params for #name {
            const KEYS: &'static [&'static str] = &[#(#keys,)* #(#also,)*];

            #[allow(clippy::int_plus_one)]
            fn from_config(__config: &::tradsys_sdk::Config) -> ::core::result::Result<Self, ::std::string::String> {
                __config.only(<Self as ::tradsys_sdk::Params>::KEYS)?;
                #(#reads)*
                let value = Self { #(#idents,)* };
                #check
                ::core::result::Result::Ok(value)
            }
        }
    })
}

/// `let ident = { read; checks; value };` for one field: the bounds of a
/// later field may name it.
fn read_field(ident: &syn::Ident, ty: &Type, key: &LitStr, spec: &Field) -> syn::Result<Tokens> {
    let inner = option_inner(ty);
    let value = format_ident!("__value");
    let read = match (&spec.decimal, &spec.default, inner) {
        (Some(Some(_)), Some(_), _) => {
            return Err(syn::Error::new(
                key.span(),
                "`decimal = \"..\"` is the default already",
            ));
        }
        (Some(Some(default)), None, None) => quote! {
            __config.fixed_or(#key, ::tradsys_sdk::fixed::parse(#default).expect("checked by the derive"))?
        },
        (Some(None), None, Some(_)) => quote! {
            match __config.get(#key) {
                ::core::option::Option::None => ::core::option::Option::None,
                ::core::option::Option::Some(_) => ::core::option::Option::Some(__config.fixed_or(#key, 0)?),
            }
        },
        (Some(_), _, _) => {
            return Err(syn::Error::new(
                ty.span(),
                "`decimal = \"default\"` for an i64, `decimal` alone for an Option<i64>",
            ));
        }
        (None, Some(default), None) => quote! { __config.parse_or(#key, #default)? },
        (None, None, Some(inner)) => quote! {
            match __config.get(#key) {
                ::core::option::Option::None => ::core::option::Option::None,
                ::core::option::Option::Some(_) => ::core::option::Option::Some(__config.parse_or::<#inner>(#key, ::core::default::Default::default())?),
            }
        },
        (None, Some(_), Some(_)) => {
            return Err(syn::Error::new(
                ty.span(),
                "an Option is None when absent: no `default`",
            ));
        }
        (None, None, None) => {
            return Err(syn::Error::new(
                ident.span(),
                "a field needs `#[param(default = ..)]`, `#[param(decimal = \"..\")]` or an Option type",
            ));
        }
    };
    let base = inner.unwrap_or(ty);
    let float = is_float(base);
    let mut checks = Vec::new();
    if float {
        checks.push(quote! {
            if !v.is_finite() {
                return ::core::result::Result::Err(::std::format!("config `{}`: must be a finite number", #key));
            }
        });
    }
    let bound = |e: &Expr| -> Tokens {
        match (&spec.decimal, e) {
            (
                Some(_),
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }),
            ) => {
                quote! { ::tradsys_sdk::fixed::parse(#s).expect("a decimal bound") }
            }
            _ => quote! { (#e) },
        }
    };
    // A literal bound is shown as written; an expression (of earlier
    // fields) as written and with its value.
    let shown = |e: &Expr| -> Tokens {
        let text = quote!(#e).to_string();
        match (&spec.decimal, e) {
            (
                _,
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }),
            ) => quote! { #s },
            (_, Expr::Lit(_)) => quote! { (#e) },
            (_, Expr::Unary(u)) if matches!(*u.expr, Expr::Lit(_)) => quote! { (#e) },
            (Some(_), _) => quote! {
                ::std::format!("{} ({})", #text, ::tradsys_sdk::fixed::format_exact((#e) as i128, 0))
            },
            (None, _) => quote! { ::std::format!("{} ({})", #text, { let b: #base = #e; b }) },
        }
    };
    if let Some(min) = &spec.min {
        let (b, s) = (bound(min), shown(min));
        checks.push(quote! {
            if *v < #b {
                return ::core::result::Result::Err(::std::format!("config `{}`: must be at least {}", #key, #s));
            }
        });
    }
    if let Some(max) = &spec.max {
        let (b, s) = (bound(max), shown(max));
        checks.push(quote! {
            if *v > #b {
                return ::core::result::Result::Err(::std::format!("config `{}`: must be at most {}", #key, #s));
            }
        });
    }
    if spec.positive {
        let zero = if float {
            quote! { 0.0 }
        } else {
            quote! { 0 }
        };
        checks.push(quote! {
            if *v <= #zero {
                return ::core::result::Result::Err(::std::format!("config `{}`: must be positive", #key));
            }
        });
    }
    let checked = if checks.is_empty() {
        quote! {}
    } else if inner.is_some() {
        quote! { if let ::core::option::Option::Some(v) = &#value { #(#checks)* } }
    } else {
        quote! { { let v = &#value; #(#checks)* } }
    };
    Ok(quote! { let #ident: #ty = { let #value: #ty = #read; #checked #value }; })
}

/// `T` of an `Option<T>` field.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

fn is_float(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.is_ident("f64") || p.path.is_ident("f32"))
}

/// A decimal default must parse: digits, an optional point and at most
/// nine decimals, an optional sign.
fn check_decimal(lit: &LitStr) -> syn::Result<()> {
    let text = lit.value();
    let digits = text.strip_prefix('-').unwrap_or(&text);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 9
        && frac.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(syn::Error::new(
            lit.span(),
            "a decimal: digits, a point, at most nine decimals",
        ))
    }
}
