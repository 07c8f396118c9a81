/* Host harness for a biowear-generated int8 model (written by biowear.export.build).
 *
 *   ./infer [-r|--raw] WINDOWS.f32
 *
 * WINDOWS.f32 holds N windows of MODEL_INPUT_CHANNELS x MODEL_INPUT_SAMPLES float32 values, little-endian,
 * channel-major, back to back (N is taken from the file size). One line is printed per window: the class index
 * (classifier) or the regression value in the target unit (%.6f); with -r/--raw the MODEL_OUTPUTS int8 output
 * codes, space-separated. Exit codes: 0 ok, 1 I/O error, 2 bad usage or a file size that is not a whole number
 * of windows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define WINDOW_FLOATS ((long)MODEL_INPUT_CHANNELS * (long)MODEL_INPUT_SAMPLES)
#define WINDOW_BYTES (WINDOW_FLOATS * 4L)

static float window[MODEL_INPUT_CHANNELS * MODEL_INPUT_SAMPLES];
static unsigned char raw_bytes[MODEL_INPUT_CHANNELS * MODEL_INPUT_SAMPLES * 4];
static int8_t input[MODEL_INPUT_SIZE];
static int8_t output[MODEL_OUTPUTS];

static void usage(const char *prog) {
    fprintf(stderr, "usage: %s [-r|--raw] WINDOWS.f32  (float32 little-endian, N x %d channels x %d samples)\n",
            prog, MODEL_INPUT_CHANNELS, MODEL_INPUT_SAMPLES);
}

/* Decode little-endian float32 bytes independently of the host's byte order. */
static void decode_window(void) {
    long i;
    for (i = 0; i < WINDOW_FLOATS; ++i) {
        const unsigned char *b = raw_bytes + 4 * i;
        uint32_t u = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
        float f;
        memcpy(&f, &u, sizeof f);
        window[i] = f;
    }
}

int main(int argc, char **argv) {
    const char *path = NULL;
    int raw = 0;
    int a;
    FILE *fh;
    long size, n, w;
    for (a = 1; a < argc; ++a) {
        if (strcmp(argv[a], "-r") == 0 || strcmp(argv[a], "--raw") == 0) {
            raw = 1;
        } else if (strcmp(argv[a], "-h") == 0 || strcmp(argv[a], "--help") == 0) {
            usage(argv[0]);
            return 0;
        } else if (path == NULL && argv[a][0] != '-') {
            path = argv[a];
        } else {
            usage(argv[0]);
            return 2;
        }
    }
    if (path == NULL) {
        usage(argv[0]);
        return 2;
    }
    fh = fopen(path, "rb");
    if (fh == NULL) {
        fprintf(stderr, "infer: cannot open %s\n", path);
        return 1;
    }
    if (fseek(fh, 0L, SEEK_END) != 0 || (size = ftell(fh)) < 0 || fseek(fh, 0L, SEEK_SET) != 0) {
        fprintf(stderr, "infer: cannot determine the size of %s\n", path);
        fclose(fh);
        return 1;
    }
    if (size % WINDOW_BYTES != 0) {
        fprintf(stderr,
                "infer: %s has %ld bytes, not a multiple of one window (%d channels x %d samples x 4 bytes = %ld)\n",
                path, size, MODEL_INPUT_CHANNELS, MODEL_INPUT_SAMPLES, WINDOW_BYTES);
        fclose(fh);
        return 2;
    }
    n = size / WINDOW_BYTES;
    for (w = 0; w < n; ++w) {
        if (fread(raw_bytes, 1, (size_t)WINDOW_BYTES, fh) != (size_t)WINDOW_BYTES) {
            fprintf(stderr, "infer: short read in %s at window %ld\n", path, w);
            fclose(fh);
            return 1;
        }
        decode_window();
        model_quantize_input(window, input);
        model_run(input, output);
        if (raw) {
            int k;
            for (k = 0; k < MODEL_OUTPUTS; ++k) {
                printf(k ? " %d" : "%d", (int)output[k]);
            }
            printf("\n");
        } else {
#if MODEL_IS_REGRESSION
            printf("%.6f\n", (double)model_value(output));
#else
            printf("%d\n", model_class(output));
#endif
        }
    }
    fclose(fh);
    return 0;
}
