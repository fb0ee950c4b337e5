/* jsonl.h - a tiny formatter for the app's JSON lines (no printf: newlib's allocates and costs
 * about 20 KB of flash). Every function writes into buf[0..n) and returns the length written,
 * or -1 if it does not fit; nothing is NUL-terminated unless said. */
#ifndef KWS_JSONL_H
#define KWS_JSONL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Decimal digits of v. */
int kws_fmt_u32(char *buf, size_t n, uint32_t v);

/* {"time_ms":T,"label":"L","score":S}\n  (the label must be plain ASCII without " or \) */
int kws_jsonl_detection(char *buf, size_t n, uint32_t time_ms, const char *label,
                        uint32_t score);

/* {"time_ms":T,"output":[q0,q1,...]}\n  (one inference's int8 output vector, count values) */
int kws_jsonl_output(char *buf, size_t n, uint32_t time_ms, const int8_t *q, size_t count);

/* {"k0":v0,"k1":v1,...}\n for count unsigned values. */
int kws_jsonl_counters(char *buf, size_t n, const char *const *keys, const uint32_t *values,
                       size_t count);

#ifdef __cplusplus
}
#endif
#endif /* KWS_JSONL_H */
