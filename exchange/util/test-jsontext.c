/* test-jsontext.c: the tree-less JSON writer and reader give what jansson gives */
#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsontext.h"
#include "util/macro.h"

/* The writer's text is byte for byte json_dumps(JSON_COMPACT) of the same members in the same order. */
static void test_write(void)
{
        static const char *const strings[] = {
                "", "plain", "quote \" back \\ slash /", "\b\f\n\r\t", "\x01\x1f\x7f", "Thông tin công dân 🇻🇳",
        };

        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                JsonText t = JSONTEXT_INIT;
                json_t *j =
                        json_pack("{s:s,s:I,s:[[s,s]]}", "s", strings[i], "n", (json_int_t)-42, "h", "k", strings[i]);
                char *want = json_dumps(j, JSON_COMPACT), *got;
                size_t len;

                jsontext_raw(&t, "{", 1);
                jsontext_key(&t, "s");
                jsontext_string(&t, strings[i]);
                jsontext_key(&t, "n");
                jsontext_integer(&t, -42);
                jsontext_key(&t, "h");
                jsontext_raw(&t, "[[", 2);
                jsontext_string(&t, "k");
                jsontext_string(&t, strings[i]);
                jsontext_raw(&t, "]]}", 3);
                got = jsontext_finish(&t, &len);
                assert(got && want && streq(got, want) && len == strlen(want));
                free(got);
                free(want);
                json_decref(j);
        }

        /* not UTF-8, or NULL: no text at all, as json_string() would fail the tree */
        JsonText t = JSONTEXT_INIT;
        jsontext_raw(&t, "{", 1);
        jsontext_key(&t, "s");
        jsontext_string(&t, "\xc3\x28");
        jsontext_raw(&t, "}", 1);
        assert(!jsontext_finish(&t, NULL));
        jsontext_string(&t, NULL);
        assert(!jsontext_finish(&t, NULL));
}

/* `f` holds what jansson read from the same text (`j`): the same members, types and values. */
static void assert_same(const JsonTextFlat *f, json_t *j)
{
        assert(json_is_object(j) && json_object_size(j) == f->n_members);
        for (size_t i = 0; i < f->n_members; i++) {
                const JsonTextMember *m = &f->members[i];
                json_t *v = json_object_get(j, m->key);
                const char *s = m->string;

                assert(v);
                switch (m->type) {
                case JSONTEXT_STRING:
                        assert(json_is_string(v) && json_string_length(v) == m->length &&
                               memcmp(json_string_value(v), m->string, m->length) == 0);
                        break;
                case JSONTEXT_INTEGER:
                        assert(json_is_integer(v) && json_integer_value(v) == m->integer);
                        break;
                case JSONTEXT_PAIRS:
                        assert(json_is_array(v) && json_array_size(v) == m->n_pairs);
                        for (size_t k = 0; k < m->n_pairs; k++) {
                                json_t *pair = json_array_get(v, k);
                                assert(json_array_size(pair) == 2);
                                for (size_t e = 0; e < 2; e++, s = jsontext_pair_next(s))
                                        assert(streq(json_string_value(json_array_get(pair, e)), s));
                        }
                        break;
                }
        }
}

/* Read `text` both ways: accepted means jansson reads the same; declined is always allowed. */
static int check(const char *text, size_t size)
{
        JsonTextFlat f;
        json_t *j = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
        int r = jsontext_flat_parse(text, size, &f);

        assert(r == 0 || r == -EBADMSG);
        if (r == 0) {
                assert(j);
                assert_same(&f, j);
                jsontext_flat_done(&f);
        }
        json_decref(j);
        return r;
}

static void test_read(void)
{
        static const char *const accepted[] = {
                "{}",
                " { \"a\" : \"b\" , \"n\" : 0 } \n",
                "{\"service\":\"VN/GOV/BCA/population/citizen\",\"method\":\"GET\",\"path\":\"/\",\"timeout_ms\":5000,"
                "\"headers\":[[\"Accept\",\"application/json\"],[\"X-A\",\"\"]],\"none\":[]}",
                "{\"e\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\",\"neg\":-17,\"big\":999999999999999999}",
                "{\"utf8\":\"Thông tin\",\"del\":\"\x7f\"}",
        };
        static const char *const declined[] = {
                "",
                "[]",
                "{\"a\":\"b\",\"a\":\"c\"}", /* a duplicate key */
                "{\"a\":\"\\u0000\"}",       /* NUL */
                "{\"a\":1.5}",               /* not an integer */
                "{\"a\":1e3}",
                "{\"a\":01}",                  /* not JSON */
                "{\"a\":1234567890123456789}", /* 19 digits */
                "{\"a\":true}",                /* another type */
                "{\"a\":null}",
                "{\"a\":{}}",
                "{\"a\":[[\"x\"]]}", /* not a pair */
                "{\"a\":[[\"x\",1]]}",
                "{\"a\":\"b\"} x",     /* trailing bytes */
                "{\"a\":\"b\",}",      /* not JSON */
                "{\"a\":\"\\ud800\"}", /* a lone surrogate */
                "{\"a\":\"\\udc00\"}",
                "{\"a\":\"\\x\"}",       /* an unknown escape */
                "{\"a\":\"\xc3\x28\"}",  /* not UTF-8 */
                "{\"a\":\"tab\there\"}", /* a raw control character */
                "{\"a\":\"unterminated}",
        };

        for (size_t i = 0; i < ELEMENTSOF(accepted); i++)
                assert(check(accepted[i], strlen(accepted[i])) == 0);
        for (size_t i = 0; i < ELEMENTSOF(declined); i++)
                assert(check(declined[i], strlen(declined[i])) == -EBADMSG);

        /* too many members: declined */
        JsonText t = JSONTEXT_INIT;
        char key[16], *many;
        size_t len;
        jsontext_raw(&t, "{", 1);
        for (int i = 0; i <= JSONTEXT_MAX_MEMBERS; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                jsontext_key(&t, key);
                jsontext_integer(&t, i);
        }
        jsontext_raw(&t, "}", 1);
        many = jsontext_finish(&t, &len);
        assert(many && check(many, len) == -EBADMSG);
        free(many);
}

/* A random string's JSON text from escapes, UTF-8 and plain bytes (some not valid: the reader must decline). */
static void random_string(char *text, size_t *n, unsigned *seed)
{
        static const char *const pieces[] = { "a",       "Z",       "/",        " ",
                                              "\\\"",    "\\\\",    "\\n",      "\\t",
                                              "\\/",     "\\u00e9", "\\u20ac",  "\\ud83d\\ude00",
                                              "\\ud83d", "\\u0000", "\xc3\xa9", "\xe2\x82\xac",
                                              "\xc3",    "\x7f" };
        int count = (int)(rand_r(seed) % 6);

        text[(*n)++] = '"';
        for (int k = 0; k < count; k++) {
                const char *p = pieces[rand_r(seed) % ELEMENTSOF(pieces)];
                memcpy(text + *n, p, strlen(p));
                *n += strlen(p);
        }
        text[(*n)++] = '"';
}

/* Random flat objects, some with one byte changed: whatever the reader accepts, jansson reads the same. */
static void test_read_random(void)
{
        static const char noise[] = "{}[],:\" 0-1.e\x01\x80";
        unsigned seed = 14;
        size_t accepted = 0, declined = 0;

        for (int round = 0; round < 100000; round++) {
                char text[2048];
                size_t n = 0;
                int members = (int)(rand_r(&seed) % 6);

                text[n++] = '{';
                for (int m = 0; m < members; m++) {
                        int kind = (int)(rand_r(&seed) % 3);
                        if (m > 0)
                                text[n++] = ',';
                        if (rand_r(&seed) % 4 == 0)
                                text[n++] = ' ';
                        random_string(text, &n, &seed); /* keys repeat at times: declined */
                        text[n++] = ':';
                        if (kind == 0)
                                random_string(text, &n, &seed);
                        else if (kind == 1)
                                n += (size_t)snprintf(text + n, 32, "%d", (int)rand_r(&seed) - RAND_MAX / 2);
                        else {
                                int pairs = (int)(rand_r(&seed) % 3);
                                text[n++] = '[';
                                for (int k = 0; k < pairs; k++) {
                                        if (k > 0)
                                                text[n++] = ',';
                                        text[n++] = '[';
                                        random_string(text, &n, &seed);
                                        text[n++] = ',';
                                        random_string(text, &n, &seed);
                                        text[n++] = ']';
                                }
                                text[n++] = ']';
                        }
                }
                text[n++] = '}';
                if (rand_r(&seed) % 3 == 0)
                        text[rand_r(&seed) % n] = noise[rand_r(&seed) % (sizeof(noise) - 1)];
                if (check(text, n) == 0)
                        accepted++;
                else
                        declined++;
        }
        assert(accepted > 1000 && declined > 1000);
}

int main(void)
{
        test_write();
        test_read();
        test_read_random();
        printf("jsontext: ok\n");
        return 0;
}
