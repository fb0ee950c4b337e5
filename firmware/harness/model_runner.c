/*
 * model_runner.c - run the generated model on the Cortex-M4 under QEMU (semihosting I/O).
 *
 *   model_runner IN OUT    IN: N * KWS_MODEL_INPUT_SIZE int8 bytes; OUT: N * output bytes.
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

int kws_app_main(int argc, char **argv)
{
    /* the arena, the input and the output: static, owned here, word aligned */
    static int32_t arena[(KWS_MODEL_ARENA_BYTES + 3) / 4 + 1];
    static int32_t in_words[(KWS_MODEL_INPUT_SIZE + 3) / 4];
    static int32_t out_words[(KWS_MODEL_OUTPUT_SIZE + 3) / 4];
    int8_t *in = (int8_t *)in_words;
    int8_t *out = (int8_t *)out_words;
    if (argc != 3) {
        return fail("usage: model_runner IN OUT; argc", argc);
    }
    const int32_t fin = kws_sh_open(argv[1], KWS_SH_MODE_RB);
    const int32_t fout = kws_sh_open(argv[2], KWS_SH_MODE_WB);
    if (fin < 0 || fout < 0) {
        return fail("cannot open the input or output file", fin < 0 ? fin : fout);
    }
    int32_t n = 0;
    for (;;) {
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
