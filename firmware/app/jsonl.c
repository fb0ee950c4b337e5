/* jsonl.c - see jsonl.h. */
#include "jsonl.h"

int kws_fmt_u32(char *buf, size_t n, uint32_t v)
{
    char tmp[10];
    size_t len = 0u, i;
    if (buf == NULL) {
        return -1;
    }
    do {
        tmp[len++] = (char)('0' + (v % 10u));
        v /= 10u;
    } while (v != 0u);
    if (len > n) {
        return -1;
    }
    for (i = 0u; i < len; i++) {
        buf[i] = tmp[len - 1u - i];
    }
    return (int)len;
}

typedef struct {
    char *buf;
    size_t n;
    size_t len;
    int bad;
} out_t;

static void put_str(out_t *o, const char *s)
{
    while (*s != '\0') {
        if (o->len >= o->n) {
            o->bad = 1;
            return;
        }
        o->buf[o->len++] = *s++;
    }
}

static void put_u32(out_t *o, uint32_t v)
{
    int w = kws_fmt_u32(o->buf + o->len, o->n - o->len, v);
    if (w < 0) {
        o->bad = 1;
        return;
    }
    o->len += (size_t)w;
}

int kws_jsonl_detection(char *buf, size_t n, uint32_t time_ms, const char *label,
                        uint32_t score)
{
    out_t o = {buf, n, 0u, 0};
    if (buf == NULL || label == NULL) {
        return -1;
    }
    put_str(&o, "{\"time_ms\":");
    put_u32(&o, time_ms);
    put_str(&o, ",\"label\":\"");
    put_str(&o, label);
    put_str(&o, "\",\"score\":");
    put_u32(&o, score);
    put_str(&o, "}\n");
    return o.bad ? -1 : (int)o.len;
}

int kws_jsonl_output(char *buf, size_t n, uint32_t time_ms, const int8_t *q, size_t count)
{
    out_t o = {buf, n, 0u, 0};
    size_t i;
    if (buf == NULL || (q == NULL && count > 0u)) {
        return -1;
    }
    put_str(&o, "{\"time_ms\":");
    put_u32(&o, time_ms);
    put_str(&o, ",\"output\":[");
    for (i = 0u; i < count; i++) {
        if (i > 0u) {
            put_str(&o, ",");
        }
        if (q[i] < 0) {
            put_str(&o, "-");
        }
        put_u32(&o, (uint32_t)(q[i] < 0 ? -(int32_t)q[i] : q[i]));
    }
    put_str(&o, "]}\n");
    return o.bad ? -1 : (int)o.len;
}

int kws_jsonl_counters(char *buf, size_t n, const char *const *keys, const uint32_t *values,
                       size_t count)
{
    out_t o = {buf, n, 0u, 0};
    size_t i;
    if (buf == NULL || keys == NULL || values == NULL) {
        return -1;
    }
    put_str(&o, "{");
    for (i = 0u; i < count; i++) {
        put_str(&o, i == 0u ? "\"" : ",\"");
        put_str(&o, keys[i]);
        put_str(&o, "\":");
        put_u32(&o, values[i]);
    }
    put_str(&o, "}\n");
    return o.bad ? -1 : (int)o.len;
}
