/*
 * model_runner.c - run the generated model on the Cortex-M4 under QEMU (semihosting I/O).
 *
 *   model_runner IN OUT    IN: N * KWS_MODEL_INPUT_SIZE int8 bytes; OUT: N * output bytes.
 *   model_runner --step IN OUT   (models exported with a streaming step function)
 *                          IN: N records of 1 + KWS_MODEL_STREAM_FRAME_SIZE bytes: a control
 *                          byte (1: kws_model_stream_reset before this frame) and one frame;
 *                          OUT: N records of 1 + output bytes: ready, then kws_model_step's
 *                          output. Each step runs between the pair-1 markers.
 *
 * Prints "ok N stack S" (S: peak stack bytes since reset, by painting) and returns 0, or
 * prints the error and returns a non-zero status. The whole
 * inference runs between kws_mark_start2() and kws_mark_end2() (the plugin's pair 1).
 */
#include "kws_board.h"
#include "kws_model.h"

static int fail(const char *what, int32_t code)
{
    kws_puts("model_runner: ");
    kws_puts(what);
    kws_puts(" ");
    kws_put_i32(code);
    kws_puts("\n");
    return 1;
}

#ifdef KWS_MODEL_STREAM
/* The --step mode; returns the number of records or -1 (after printing the error). */
static int run_steps(int32_t fin, int32_t fout)
{
    static uint32_t state[KWS_MODEL_STREAM_STATE_BYTES / 4];
    static uint32_t arena[KWS_MODEL_STREAM_ARENA_BYTES / 4 + 1];
    static int32_t rec_words[(1 + KWS_MODEL_STREAM_FRAME_SIZE + 3) / 4];
    static int32_t out_words[(1 + KWS_MODEL_OUTPUT_SIZE + 3) / 4];
    int8_t *rec = (int8_t *)rec_words;
    int8_t *out = (int8_t *)out_words;
    int32_t n = 0;
    kws_status_t st = kws_model_stream_reset(state, sizeof state);
    if (st != KWS_OK) {
        return -fail("kws_model_stream_reset failed", st);
    }
    for (;;) {
        const int32_t got = kws_sh_read(fin, rec, 1 + KWS_MODEL_STREAM_FRAME_SIZE);
        if (got == 0) {
            break;
        }
        if (got != 1 + KWS_MODEL_STREAM_FRAME_SIZE) {
            return -fail("short step record; bytes", got);
        }
        if (rec[0] == 1) {
            (void)kws_model_stream_reset(state, sizeof state);
        }
        int ready = 0;
        kws_mark_start2();
        st = kws_model_step(state, sizeof state, rec + 1, KWS_MODEL_STREAM_FRAME_SIZE, out + 1,
                            KWS_MODEL_OUTPUT_SIZE, arena, sizeof arena, &ready);
        kws_mark_end2();
        if (st != KWS_OK) {
            return -fail("kws_model_step failed", st);
        }
        out[0] = (int8_t)ready;
        if (kws_sh_write(fout, out, 1 + KWS_MODEL_OUTPUT_SIZE) != 0) {
            return -fail("cannot write the output; record", n);
        }
        ++n;
    }
    return n;
}
#endif

int kws_app_main(int argc, char **argv)
{
    /* the arena, the input and the output: static, owned here, word aligned */
    static int32_t arena[(KWS_MODEL_ARENA_BYTES + 3) / 4 + 1];
    static int32_t in_words[(KWS_MODEL_INPUT_SIZE + 3) / 4];
    static int32_t out_words[(KWS_MODEL_OUTPUT_SIZE + 3) / 4];
    int8_t *in = (int8_t *)in_words;
    int8_t *out = (int8_t *)out_words;
    const int step = argc == 4 && argv[1][0] == '-' && argv[1][1] == '-' && argv[1][2] == 's';
    if (argc != 3 && !step) {
        return fail("usage: model_runner [--step] IN OUT; argc", argc);
    }
    const int32_t fin = kws_sh_open(argv[1 + step], KWS_SH_MODE_RB);
    const int32_t fout = kws_sh_open(argv[2 + step], KWS_SH_MODE_WB);
    if (fin < 0 || fout < 0) {
        return fail("cannot open the input or output file", fin < 0 ? fin : fout);
    }
    int32_t n = 0;
#ifdef KWS_MODEL_STREAM
    if (step) {
        n = run_steps(fin, fout);
        if (n < 0) {
            return 1;
        }
    }
#else
    if (step) {
        return fail("the model has no streaming step function; argc", argc);
    }
#endif
    for (; !step;) {
        const int32_t got = kws_sh_read(fin, in, KWS_MODEL_INPUT_SIZE);
        if (got == 0) {
            break;
        }
        if (got != KWS_MODEL_INPUT_SIZE) {
            return fail("short input record; bytes", got);
        }
        kws_mark_start2();
        const kws_status_t st = kws_model_invoke(in, KWS_MODEL_INPUT_SIZE, out,
                                                 KWS_MODEL_OUTPUT_SIZE, arena, sizeof arena);
        kws_mark_end2();
        if (st != KWS_OK) {
            return fail("kws_model_invoke failed", st);
        }
        if (kws_sh_write(fout, out, KWS_MODEL_OUTPUT_SIZE) != 0) {
            return fail("cannot write the output; record", n);
        }
        ++n;
    }
    kws_sh_close(fin);
    kws_sh_close(fout);
    kws_puts("ok ");
    kws_put_i32(n);
    kws_puts(" stack ");
    kws_put_u32(kws_stack_high_water());
    kws_puts("\n");
    return 0;
}
