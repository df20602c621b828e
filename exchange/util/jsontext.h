/* jsontext.h: JSON text written and read without a jansson tree, for the per-exchange hot path
 *
 * A jansson tree costs an allocation or three per member, value and key;
 * the meta frames of the adapter protocol (exchange/bus/proto.h) are built
 * and read once per exchange on each side, so they are written here into
 * one growing buffer, and read by a strict reader of the one shape they
 * have: a flat object of strings, integers and arrays of string pairs.
 *
 * The reader never decides a message is wrong: whatever is outside that
 * shape (another value type, a duplicate key, "\u0000", a number that is
 * not a plain integer, too many members) or not JSON at all is declined,
 * and the caller reads the same bytes with jansson as before, so the
 * answer to a malformed frame stays jansson's. For text it accepts, it
 * gives what jansson would (tests/unit: test-util.c compares the two).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- writing ------------------------------------------------------------------------------------ */

/* A JSON text being written: zero-initialise it (JSONTEXT_INIT). */
typedef struct JsonText {
        char *buf;
        size_t len, cap;
        bool failed; /* out of memory, or a string that is not valid UTF-8 */
} JsonText;

#define JSONTEXT_INIT ((JsonText){})

/* jsontext_raw(): `n` bytes as they are (punctuation, a literal). */
void jsontext_raw(JsonText *t, const char *s, size_t n);
/* jsontext_key(): an object member's key and ':', after a ',' unless it is the object's first. */
void jsontext_key(JsonText *t, const char *key);
/*
 * jsontext_string(): a string value (after a ',' when it is an array's next
 * element), escaped as jansson escapes it (\" \\ \b \f \n \r \t, \u00XX for
 * the other control characters, UTF-8 kept). NULL, or text that is not
 * valid UTF-8, fails the text, as json_string() would have failed the tree.
 */
void jsontext_string(JsonText *t, const char *s);
/* jsontext_integer(): an integer value (after a ',' when it is an array's next element). */
void jsontext_integer(JsonText *t, int64_t v);
/*
 * jsontext_finish(): the text, NUL-terminated (malloc'd: the caller frees
 * it), its length in *ret_len when not NULL; NULL when anything failed
 * (the buffer is then freed). `t` is empty afterwards.
 */
char *jsontext_finish(JsonText *t, size_t *ret_len);

/* ---- reading ------------------------------------------------------------------------------------ */

#define JSONTEXT_MAX_MEMBERS 32

typedef enum JsonTextType {
        JSONTEXT_STRING,  /* .string, .length (no NUL inside) */
        JSONTEXT_INTEGER, /* .integer */
        JSONTEXT_PAIRS,   /* [[string, string], ...]: .n_pairs, the strings one after the other from .string */
} JsonTextType;

typedef struct JsonTextMember {
        const char *key;
        size_t key_length;
        JsonTextType type;
        const char *string;
        size_t length;
        int64_t integer;
        size_t n_pairs;
} JsonTextMember;

/* A flat object read (jsontext_flat_parse()); the strings point into `text`. */
typedef struct JsonTextFlat {
        char *text; /* the decoded strings, each NUL-terminated (owned) */
        JsonTextMember members[JSONTEXT_MAX_MEMBERS];
        size_t n_members;
} JsonTextFlat;

/*
 * jsontext_flat_parse(): read `size` bytes of JSON that are one object whose
 * members are strings, integers (at most 18 digits) or arrays of two-string
 * arrays, with distinct keys, at most JSONTEXT_MAX_MEMBERS of them, and no
 * "\u0000" in a string. Free *ret with jsontext_flat_done() after 0.
 * Return: 0, -EBADMSG (declined: not that shape, or not JSON; read it with
 * jansson instead), -ENOMEM.
 */
int jsontext_flat_parse(const void *data, size_t size, JsonTextFlat *ret);
void jsontext_flat_done(JsonTextFlat *f);
/* jsontext_flat_get(): the member `key` (borrowed from `f`), or NULL. */
const JsonTextMember *jsontext_flat_get(const JsonTextFlat *f, const char *key);
/* jsontext_pair_next(): the string after `s` in a JSONTEXT_PAIRS member (names and values alternate). */
const char *jsontext_pair_next(const char *s);
