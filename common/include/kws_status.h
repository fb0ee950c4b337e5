/*
 * kws_status.h - the status codes shared by every kws C library.
 *
 * The front end (dsp/), the int8 runtime (firmware/runtime/) and the generated model all
 * return these codes, so one translation unit can include all of their headers. A library
 * returns only the codes its own header documents; values never change (the Python ctypes
 * bindings mirror them: kws/frontend/cbackend.py).
 * The detector (firmware/detector/) keeps its own KWS_DETECTOR_* / KWS_DETECT_* codes.
 */
#ifndef KWS_STATUS_H
#define KWS_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    KWS_OK = 0,
    KWS_ERR_NULL = -1,         /* a required pointer is NULL */
    KWS_ERR_SHORT_BUFFER = -2, /* a buffer is shorter than needed */
    KWS_ERR_BAD_CONFIG = -3,   /* sizes, shape or quantization parameters out of range */
    KWS_ERR_BAD_TABLE = -4,    /* front end: a table has the wrong length or a value out of range */
    KWS_ERR_PLATFORM = -5      /* front end: ">>" on negative values is not arithmetic here */
} kws_status;

/* The runtime's historical name for the same type. */
typedef kws_status kws_status_t;

#ifdef __cplusplus
}
#endif

#endif /* KWS_STATUS_H */
