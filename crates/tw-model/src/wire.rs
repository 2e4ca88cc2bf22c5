//! The machinery behind the forward-compatible wire types.
//!
//! Two macros live here:
//!
//! * [`wire_struct!`] declares a JSON object type whose known fields are typed
//!   and whose unknown fields are kept in an `extra` map. Its hand-rolled
//!   `Deserialize` matches keys without buffering (serde's `#[serde(flatten)]`
//!   buffers every value first, which costs a large share of decoding time on
//!   export pages), and it remembers which optional fields were sent as an
//!   explicit `null`, so that `parse -> serialize` gives back every key the
//!   server sent and invents none.
//! * [`open_enum!`] declares a string enum with an `Other(String)` fallback, so
//!   that values added by TechWolf after this release parse and serialize back
//!   unchanged.

/// Declares a forward-compatible JSON object type.
///
/// Each field is marked `req` (must be present, an error names it when
/// missing) or `opt` (its type is an `Option`; absent and `null` both read as
/// `None`, and an explicit `null` is kept in `extra` so it is written back).
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident => $view:ident {
            $(
                $(#[$fmeta:meta])*
                $kind:ident $field:ident : $ty:ty,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, schemars::JsonSchema)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                pub $field: $ty,
            )*
            /// Fields the server sent that this version of the model does not
            /// know, kept verbatim and written back on serialization (explicit
            /// `null`s of optional known fields are kept here too).
            #[schemars(skip)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        #[doc = concat!("The view of [`", stringify!($name), "`]: its strings as spans of the page ")]
        /// it was viewed in (see [`crate::view`]).
        #[derive(Debug, Clone, Default)]
        pub struct $view {
            $(
                #[doc = concat!("`", stringify!($field), "`.")]
                pub $field: <$ty as $crate::view::Viewable>::View,
            )*
            /// The object's unknown fields.
            pub unknown: $crate::view::Unknowns,
            /// Whether a known field was sent as an explicit `null`.
            pub nulls: bool,
            /// Where the object's JSON text is (see [`crate::view::JsonText`]).
            pub json: $crate::view::Span,
        }

        impl $crate::view::Viewable for $name {
            type View = $view;

            fn fresh() -> $view {
                $view::default()
            }

            fn view_into(view: &mut $view, walk: &mut $crate::Walk<'_, '_>) -> $crate::Scan<()> {
                // Keys are matched as the in-place decoder matches them.
                let object = wire_struct!(@object $name);
                view.unknown.clear();
                view.nulls = false;
                $( #[allow(unused_mut)] let mut $field = false; )*
                let mut next = 0usize;
                let start = walk.i;
                walk.container(b'{', b'}', |walk| {
                    let (found, key) = walk.key_of(object, next)?;
                    match found {
                        Some(k) => {
                            next = k + 1;
                            if walk.peek() == Some(b'n') {
                                view.nulls = true;
                            }
                            wire_struct!(@at k $( $field => {
                                $field = true;
                                <$ty as $crate::view::Viewable>::view_into(&mut view.$field, walk)?;
                            } )*);
                        }
                        None => view.unknown.read(key, walk)?,
                    }
                    Ok(())
                })?;
                $( wire_struct!(@view_finish $kind $ty, view $field); )*
                view.json = $crate::view::Span::new(start, walk.i, false).ok_or($crate::Unsure)?;
                Ok(())
            }

            fn view_of(value: &$name, text: &mut String, view: &mut $view) {
                $( <$ty as $crate::view::Viewable>::view_of(&value.$field, text, &mut view.$field); )*
                view.unknown = $crate::view::Unknowns::of(value);
                view.nulls = value
                    .extra
                    .keys()
                    .any(|key| [$( stringify!($field), )*].contains(&key.as_str()));
                // Only an object whose view cannot write its JSON needs
                // its text.
                view.json = if <$name as $crate::view::Viewable>::writes_json(view) {
                    $crate::view::Span::default()
                } else {
                    $crate::view::push_json(text, value)
                };
            }

            fn writes_json(view: &$view) -> bool {
                !view.nulls
                    && view.unknown.is_empty()
                    $( && <$ty as $crate::view::Viewable>::writes_json(&view.$field) )*
            }

            fn write_json(view: &$view, text: &str, out: &mut $crate::view::JsonOut<'_>) -> bool {
                if view.nulls || !view.unknown.is_empty() {
                    return false;
                }
                out.unquoted().push(b'{');
                #[allow(unused_mut, unused_variables)]
                let mut first = true;
                $( wire_struct!(@json $kind $ty, view.$field, stringify!($field), text, out, first); )*
                out.unquoted().push(b'}');
                true
            }

            fn count_view(
                view: &$view,
                text: &str,
                path: &$crate::FieldPath<'_>,
                counts: &mut $crate::UnknownFields,
            ) {
                view.unknown.count(text, path, counts);
                $( <$ty as $crate::view::Viewable>::count_view(
                    &view.$field,
                    text,
                    &path.field(stringify!($field)),
                    counts,
                ); )*
            }
        }

        impl $crate::view::ObjectView for $view {
            fn unknowns(&self) -> &$crate::view::Unknowns {
                &self.unknown
            }
        }

        impl $crate::view::JsonText for $view {
            fn json_text<'t>(&self, text: &'t str) -> &'t str {
                self.json.raw(text)
            }
        }

        impl $crate::Describe for $name {
            fn shape() -> $crate::Shape {
                $crate::describe_object(stringify!($name), || $crate::Shape::Object {
                    name: stringify!($name),
                    fields: vec![
                        $( $crate::FieldShape {
                            name: stringify!($field),
                            required: wire_struct!(@required $kind),
                            shape: <$ty as $crate::Describe>::shape(),
                        }, )*
                    ],
                })
            }

            fn count_unknown(&self, path: &$crate::FieldPath<'_>, counts: &mut $crate::UnknownFields) {
                if !self.extra.is_empty() {
                    $crate::Unknown::for_each_unknown(self, &mut |key, _| counts.add_at(path, key));
                }
                $( $crate::Describe::count_unknown(&self.$field, &path.field(stringify!($field)), counts); )*
            }
        }

        impl $crate::Unknown for $name {
            fn for_each_unknown<'a>(&'a self, f: &mut dyn FnMut(&'a str, &'a serde_json::Value)) {
                for (key, value) in &self.extra {
                    if !matches!(key.as_str(), $( stringify!($field) )|*) {
                        f(key, value);
                    }
                }
            }
        }

        impl $name {
            /// Whether serializing `self` writes a known field named `key`.
            fn writes_known_field(&self, key: &str) -> bool {
                match key {
                    $( stringify!($field) => wire_struct!(@present $kind self.$field), )*
                    _ => false,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(None)?;
                $( wire_struct!(@ser $kind map self.$field, stringify!($field)); )*
                for (key, value) in &self.extra {
                    if !self.writes_known_field(key) {
                        map.serialize_entry(key, value)?;
                    }
                }
                map.end()
            }
        }

        // One key type serves Deserialize and Validate. Unknown keys are
        // borrowed from the input when it allows, so validation copies none.
        const _: () = {
            #[allow(non_camel_case_types)]
            enum Key<'de> {
                $( $field, )*
                Unknown(std::borrow::Cow<'de, str>),
            }

            struct KeyVisitor;

            impl<'de> serde::de::Visitor<'de> for KeyVisitor {
                type Value = Key<'de>;

                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a field name")
                }

                fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                    Ok(match v {
                        $( stringify!($field) => Key::$field, )*
                        other => Key::Unknown(std::borrow::Cow::Borrowed(other)),
                    })
                }

                fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                    Ok(match v {
                        $( stringify!($field) => Key::$field, )*
                        other => Key::Unknown(std::borrow::Cow::Owned(other.to_owned())),
                    })
                }
            }

            impl<'de> serde::Deserialize<'de> for Key<'de> {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    d.deserialize_identifier(KeyVisitor)
                }
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    struct ObjectVisitor;

                    impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
                        type Value = $name;

                        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                            f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                        }

                        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<$name, A::Error> {
                            let mut extra = serde_json::Map::new();
                            $( wire_struct!(@init $kind $field $ty); )*
                            while let Some(key) = access.next_key::<Key<'de>>()? {
                                match key {
                                    $( Key::$field => wire_struct!(@read $kind access extra $field $ty), )*
                                    Key::Unknown(name) => {
                                        let value = access.next_value_seed($crate::validate::Extra::kept())?;
                                        extra.insert(name.into_owned(), value);
                                    }
                                }
                            }
                            $( wire_struct!(@finish $kind $field); )*
                            Ok($name { $( $field, )* extra })
                        }
                    }

                    deserializer.deserialize_map(ObjectVisitor)
                }
            }

            impl $crate::DecodeInto for $name {
                fn decode_into(&mut self, walk: &mut $crate::Walk<'_, '_>) -> $crate::Scan<()> {
                    // Keys are matched by the type's compiled scanner (the
                    // next field first, a word at a time), then by index.
                    let object = wire_struct!(@object $name);
                    // Keep the last record's remembered nulls of known
                    // fields (the same fields tend to be null record after
                    // record) rather than free and rebuild their keys;
                    // unknown fields go. Each known field then keeps,
                    // adds or removes its own entry below.
                    if !self.extra.is_empty() {
                        self.extra.retain(|key, value| {
                            value.is_null() && [$( stringify!($field), )*].contains(&key.as_str())
                        });
                    }
                    // Whether `extra` may hold a remembered null of a known
                    // field: without one (most objects) no field looks its
                    // own up, however many unknown fields come.
                    #[allow(unused_mut, unused_variables)]
                    let mut nulls = !self.extra.is_empty();
                    $( #[allow(unused_mut)] let mut $field = false; )*
                    let mut next = 0usize;
                    walk.container(b'{', b'}', |walk| {
                        let (found, key) = walk.key_of(object, next)?;
                        match found {
                            Some(k) => {
                                next = k + 1;
                                wire_struct!(@at k $( $field => {
                                    $field = true;
                                    wire_struct!(@into $kind walk self $field nulls);
                                } )*);
                            }
                            None => {
                                let b = walk.b;
                                let name = std::str::from_utf8(&b[key])
                                    .map_err(|_| $crate::Unsure)?;
                                let value = $crate::decode_into::extra_value(walk)?;
                                self.extra.insert(name.to_owned(), value);
                            }
                        }
                        Ok(())
                    })?;
                    $( wire_struct!(@into_finish $kind self $field nulls); )*
                    Ok(())
                }

                fn decode_new(walk: &mut $crate::Walk<'_, '_>) -> $crate::Scan<Self> {
                    let mut value = Self::default();
                    value.decode_into(walk)?;
                    Ok(value)
                }

                fn take_spare() -> Option<Self> {
                    $crate::spares::take()
                }

                fn keep_spare(self) {
                    $crate::spares::keep(self)
                }
            }

            impl $crate::Validate for $name {
                fn validate<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
                    struct ObjectVisitor;

                    impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
                        type Value = ();

                        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                            f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                        }

                        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
                            $( #[allow(unused_mut)] let mut $field = false; )*
                            while let Some(key) = access.next_key::<Key<'de>>()? {
                                match key {
                                    $( Key::$field => {
                                        access.next_value_seed($crate::validate::Check::<$ty>::new())?;
                                        $field = true;
                                    } )*
                                    Key::Unknown(_) => $crate::validate::skip(&mut access)?,
                                }
                            }
                            $( wire_struct!(@present_check $kind $field); )*
                            Ok(())
                        }
                    }

                    deserializer.deserialize_map(ObjectVisitor)
                }

                fn scanner() -> Option<&'static $crate::Scanner> {
                    static SCANNER: std::sync::OnceLock<Option<$crate::Scanner>> =
                        std::sync::OnceLock::new();
                    SCANNER
                        .get_or_init(|| $crate::Scanner::new(&<$name as $crate::Describe>::shape()))
                        .as_ref()
                }
            }
        };
    };

    (@into req $walk:ident $self:ident $field:ident $nulls:ident) => {
        $crate::DecodeInto::decode_into(&mut $self.$field, $walk)?
    };
    (@into opt $walk:ident $self:ident $field:ident $nulls:ident) => {
        if $walk.peek() == Some(b'n') {
            $walk.literal(b"null")?;
            $self.$field = None;
            if !$nulls || !$self.extra.contains_key(stringify!($field)) {
                $self.extra.insert(stringify!($field).to_owned(), serde_json::Value::Null);
            }
            $nulls = true;
        } else {
            $crate::DecodeInto::decode_into(&mut $self.$field, $walk)?;
            if $nulls {
                $self.extra.remove(stringify!($field));
            }
        }
    };
    // Writes a field of a view as the typed value's serialization does.
    (@json req $ty:ty, $value:expr, $key:expr, $text:ident, $out:ident, $first:ident) => {
        wire_struct!(@json_field $ty, &$value, $key, $text, $out, $first);
    };
    (@json opt $ty:ty, $value:expr, $key:expr, $text:ident, $out:ident, $first:ident) => {
        if $value.is_some() {
            wire_struct!(@json_field $ty, &$value, $key, $text, $out, $first);
        }
    };
    (@json_field $ty:ty, $value:expr, $key:expr, $text:ident, $out:ident, $first:ident) => {
        if !$first {
            $out.unquoted().push(b',');
        }
        #[allow(unused_assignments)]
        {
            $first = false;
        }
        $out.quote();
        $out.unquoted().extend_from_slice($key.as_bytes());
        $out.quote();
        $out.unquoted().push(b':');
        if !<$ty as $crate::view::Viewable>::write_json($value, $text, $out) {
            return false;
        }
    };
    // The compiled scanner object of type `$name`, whose keys the walks
    // match (unsure without one).
    (@object $name:ident) => {
        <$name as $crate::Validate>::scanner()
            .and_then($crate::Scanner::root_object)
            .ok_or($crate::Unsure)?
    };
    // Runs the body of the field at index `k` (fields numbered in order).
    (@at $k:ident $( $field:ident => $body:block )*) => {{
        #[allow(unused_mut, unused_assignments)]
        let mut index = 0usize;
        $(
            if $k == index $body
            #[allow(unused_assignments)]
            {
                index += 1;
            }
        )*
    }};
    (@view_finish req $ty:ty, $view:ident $field:ident) => {
        if !$field {
            return Err($crate::Unsure);
        }
    };
    (@view_finish opt $ty:ty, $view:ident $field:ident) => {
        if !$field {
            <$ty as $crate::view::Viewable>::set_aside(std::mem::take(&mut $view.$field));
        }
    };
    (@into_finish req $self:ident $field:ident $nulls:ident) => {
        if !$field {
            return Err($crate::Unsure);
        }
    };
    (@into_finish opt $self:ident $field:ident $nulls:ident) => {
        if !$field {
            $self.$field = None;
            if $nulls {
                $self.extra.remove(stringify!($field));
            }
        }
    };

    (@present_check req $field:ident) => {
        if !$field {
            return Err(serde::de::Error::missing_field(stringify!($field)));
        }
    };
    (@present_check opt $field:ident) => {
        let _ = $field;
    };

    (@required req) => { true };
    (@required opt) => { false };

    (@present req $value:expr) => { true };
    (@present opt $value:expr) => { $value.is_some() };

    (@ser req $map:ident $value:expr, $key:expr) => {
        $map.serialize_entry($key, &$value)?
    };
    (@ser opt $map:ident $value:expr, $key:expr) => {
        if let Some(value) = &$value {
            $map.serialize_entry($key, value)?
        }
    };

    (@init req $field:ident $ty:ty) => { let mut $field: Option<$ty> = None; };
    (@init opt $field:ident $ty:ty) => { let mut $field: $ty = None; };

    (@read req $access:ident $extra:ident $field:ident $ty:ty) => {
        $field = Some($access.next_value::<$ty>()?)
    };
    (@read opt $access:ident $extra:ident $field:ident $ty:ty) => {{
        $field = $access.next_value::<$ty>()?;
        if $field.is_none() {
            $extra.insert(stringify!($field).to_owned(), serde_json::Value::Null);
        } else {
            $extra.remove(stringify!($field));
        }
    }};

    (@finish req $field:ident) => {
        let $field = $field.ok_or_else(|| serde::de::Error::missing_field(stringify!($field)))?;
    };
    (@finish opt $field:ident) => {};
}

/// Declares a string enum that keeps values it does not know.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $wire:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        ///
        /// Values this release does not know parse as `Other` and serialize
        /// back unchanged. Build values with `From<&str>`, which maps known
        /// spellings to their variant.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )*
            /// A value this version of the model does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The values this release knows, as the API spells them.
            pub const KNOWN: &'static [&'static str] = &[$($wire),*];

            /// The value as the API spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::Other(other) => other,
                }
            }

            /// Whether this value is one this release knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }

            /// The known variant spelled `value`, if there is one.
            fn known(value: &str) -> Option<Self> {
                match value {
                    $( $wire => Some(Self::$variant), )*
                    _ => None,
                }
            }
        }

        impl $crate::view::Viewable for $name {
            type View = $crate::view::Span;

            fn fresh() -> $crate::view::Span {
                $crate::view::Span::default()
            }

            #[inline]
            fn view_into(view: &mut $crate::view::Span, walk: &mut $crate::Walk<'_, '_>) -> $crate::Scan<()> {
                <String as $crate::view::Viewable>::view_into(view, walk)
            }

            fn view_of(value: &$name, text: &mut String, view: &mut $crate::view::Span) {
                *view = $crate::view::push_span(text, value.as_str());
            }

            fn write_json(
                view: &$crate::view::Span,
                text: &str,
                out: &mut $crate::view::JsonOut<'_>,
            ) -> bool {
                view.write_json(text, out)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::known(value).unwrap_or_else(|| Self::Other(value.to_owned()))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::known(&value).unwrap_or(Self::Other(value))
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;

                impl serde::de::Visitor<'_> for V {
                    type Value = $name;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a string")
                    }

                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::from(v))
                    }

                    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<$name, E> {
                        Ok($name::from(v))
                    }
                }

                deserializer.deserialize_str(V)
            }
        }

        impl $crate::Validate for $name {
            fn validate<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
                <String as $crate::Validate>::validate(deserializer)
            }
        }

        impl $crate::DecodeInto for $name {
            fn decode_into(&mut self, walk: &mut $crate::Walk<'_, '_>) -> $crate::Scan<()> {
                // Known values are matched on the page's text; an unknown
                // one goes into the capacity an unknown value had.
                let text = $crate::decode_into::string_text(walk)?;
                match (Self::known(&text), self) {
                    (Some(known), this) => *this = known,
                    (None, Self::Other(kept)) => {
                        kept.clear();
                        kept.push_str(&text);
                    }
                    (None, this) => *this = Self::Other(text.into_owned()),
                }
                Ok(())
            }

            fn decode_new(walk: &mut $crate::Walk<'_, '_>) -> $crate::Scan<Self> {
                $crate::decode_into::string_text(walk).map(|text| Self::from(text.as_ref()))
            }
        }

        impl $crate::Describe for $name {
            fn shape() -> $crate::Shape {
                $crate::Shape::Enum(Self::KNOWN)
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "anyOf": [
                        { "enum": Self::KNOWN },
                        {
                            "type": "string",
                            "description": "A value this version of tw-model does not know; kept verbatim."
                        }
                    ]
                })
            }
        }
    };
}

pub(crate) use {open_enum, wire_struct};
